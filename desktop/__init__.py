"""LatentCut desktop package: the PySide6 app and the `latentcut` command line."""
