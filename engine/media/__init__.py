"""PyAV media: probe, exact-frame reading, encoding, thumbnails, proxies and timeline render.

Import the modules themselves (engine.media.probe, ...). The package imports none of them, so code
that needs only its PyAV-free parts (retime) runs where PyAV is not installed, such as a GPU
training machine. Importing this package must not import torch.
"""
