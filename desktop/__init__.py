"""LatentCut desktop package."""
