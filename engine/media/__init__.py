"""PyAV media: probe, exact-frame reading, encoding, thumbnails, proxies and timeline render.

Importing this package must not import torch.
"""
