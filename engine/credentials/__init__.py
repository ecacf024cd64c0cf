"""Content Credentials (C2PA): signing what the engine writes and reading credentials back.

`settings` says who signs (the local signer, or a studio's certificate and key), `local_ca`
makes the local signer on first use, `signer` loads and checks a certificate and key,
`prepare` does that and imports c2pa in the background while a model loads, `manifests`
builds the manifest definitions, `embed` signs a file, `reading` verifies one, `recheck`
reads a take's credentials again for an export. The c2pa library is imported only where a
file is signed or read.
"""
from engine.credentials.settings import SigningError, SigningSettings

__all__ = ["SigningError", "SigningSettings"]
