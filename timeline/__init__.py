"""LatentCut timeline package."""
