"""LatentCut engine package."""
