"""Who signs: the settings of one command or one engine, resolved from its flags, the
environment and the app's preferences, in that order."""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from engine.errors import LatentCutError

# Environment variables a studio sets once for every command and the app.
ENV_CERT = "LATENTCUT_SIGN_CERT"
ENV_KEY = "LATENTCUT_SIGN_KEY"
ENV_TSA = "LATENTCUT_TSA_URL"
ENV_TRUST = "LATENTCUT_TRUST_ANCHORS"


class SigningError(LatentCutError):
    """Content Credentials could not be made; no unsigned file was left in place."""


@dataclass(frozen=True)
class SigningSettings:
    """`cert` is a PEM chain (signing certificate first) and `key` its private key; both None
    means the local signer made on first use. `tsa_url` is an RFC 3161 timestamp authority.
    `trust_anchors` is a PEM file of CA certificates whose signers read as trusted."""

    enabled: bool = True
    cert: str | None = None
    key: str | None = None
    tsa_url: str | None = None
    trust_anchors: str | None = None

    def __post_init__(self):
        if (self.cert is None) != (self.key is None):
            raise ValueError("sign-key: a studio signer needs both the certificate chain and its private key")
        if self.tsa_url and not self.tsa_url.startswith(("http://", "https://")):
            raise ValueError(f"--tsa-url: expected an http(s) URL, got {self.tsa_url!r}")

    @property
    def is_local(self) -> bool:
        return self.cert is None

    @classmethod
    def resolve(cls, *, no_sign: bool = False, cert: str | None = None, key: str | None = None,
                tsa_url: str | None = None, trust_anchors: str | None = None,
                preferences: Mapping[str, str | None] | None = None,
                environ: Mapping[str, str] | None = None) -> "SigningSettings":
        """Flags win over the environment, which wins over `preferences` (keys `cert`, `key`,
        `tsa_url`, `trust_anchors`). Cert and key travel together: a flag pair replaces both."""
        env = os.environ if environ is None else environ
        prefs = preferences or {}
        sources = [(("--sign-cert", "--sign-key"), cert, key),
                   ((ENV_CERT, ENV_KEY), env.get(ENV_CERT), env.get(ENV_KEY)),
                   (("the certificate chain preference", "the private key preference"),
                    prefs.get("cert"), prefs.get("key"))]
        names, chosen_cert, chosen_key = next((s for s in sources if s[1] or s[2]), (None, None, None))
        if bool(chosen_cert) != bool(chosen_key):
            given, missing = names if chosen_cert else names[::-1]
            raise ValueError(f"{missing}: {given} was given without it; a studio signer needs both "
                             f"the certificate chain and its private key")
        return cls(enabled=not no_sign, cert=chosen_cert or None, key=chosen_key or None,
                   tsa_url=tsa_url or env.get(ENV_TSA) or prefs.get("tsa_url") or None,
                   trust_anchors=trust_anchors or env.get(ENV_TRUST) or prefs.get("trust_anchors") or None)


def configured_trust_anchors(preferences: Mapping[str, str | None] | None = None) -> str | None:
    """The trust anchors for reading credentials: $LATENTCUT_TRUST_ANCHORS, else the preference."""
    return os.environ.get(ENV_TRUST) or (preferences or {}).get("trust_anchors") or None
