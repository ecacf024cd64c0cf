"""Reading a file's Content Credentials back: is there a manifest, is it intact, who signed
it, and does it say the pictures were made by a model."""
from __future__ import annotations

import json
import os
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from engine.credentials.manifests import COMPOSITE_WITH_TRAINED, RECIPE_LABEL, SEGMENTS_LABEL, TRAINED
from engine.errors import MissingMedia

# The states a badge shows, in words.
STATES = {"valid": "valid", "untrusted": "untrusted signer", "invalid": "invalid", "none": "none"}
_UNTRUSTED = "signingCredential.untrusted"
# Failure codes in plain words; others fall back to the library's own explanation.
_REASONS = {
    "assertion.bmffHash.mismatch": "the media data does not match its signed hash (the file was changed after signing)",
    "assertion.dataHash.mismatch": "the media data does not match its signed hash (the file was changed after signing)",
    "assertion.hashedURI.mismatch": "a signed statement was changed after signing",
    "claimSignature.mismatch": "bad signature: it does not match the signed claim",
    "claimSignature.outsideValidity": "the signing certificate was expired or not yet valid when it signed",
    "signingCredential.expired": "the signing certificate has expired",
    "signingCredential.revoked": "the signing certificate was revoked",
    "signingCredential.invalid": "the signing certificate is not valid for signing",
    "timeStamp.mismatch": "the timestamp does not match the signature",
}


@dataclass
class Credentials:
    """What `read_credentials` found. `state` is valid | untrusted | invalid | none."""

    path: str
    state: str
    reason: str = ""
    manifest_id: str | None = None
    generated: bool = False        # made by a model (trainedAlgorithmicMedia)
    contains_generated: bool = False  # a composite with generated parts
    source_type: str | None = None
    signer: str = ""
    issuer: str = ""
    signed_at: str | None = None
    generator: str = ""
    actions: list[dict[str, Any]] = field(default_factory=list)
    ingredients: list[dict[str, Any]] = field(default_factory=list)
    recipe: dict[str, Any] | None = None
    segments: list[dict[str, Any]] = field(default_factory=list)
    report: dict[str, Any] | None = None  # the library's whole manifest store, for --json

    @property
    def label(self) -> str:
        return STATES[self.state]

    def summary(self) -> str:
        """One line: the badge's state and what the manifest says."""
        if self.state == "none":
            return "Content Credentials: none"
        what = ("made by a model (trained algorithmic media)" if self.generated else
                "a composite with generated parts" if self.contains_generated else "no generated content declared")
        by = f", signed by {self.signer}" if self.signer else ""
        why = f" ({self.reason})" if self.state == "invalid" else ""
        return f"Content Credentials: {self.label}{why}; {what}{by}"

    def record(self) -> dict[str, Any]:
        """What a timeline keeps of these credentials (OTIO metadata, interchange notes); the
        reason is kept only for invalid credentials."""
        record = {"manifest": self.manifest_id, "state": self.state, "signer": self.signer}
        if self.state == "invalid":
            record["reason"] = self.reason
        return record

    def as_provenance(self) -> dict[str, Any] | None:
        """For a file a model made, the provenance its manifest records (the recipe, and the
        model from the software agent), to mark it generated on import when its `latentcut`
        tag was stripped; None for anything else."""
        if not self.generated:
            return None
        created = next((a for a in self.actions if a.get("digitalSourceType") == TRAINED), {})
        agent = created.get("softwareAgent") if isinstance(created.get("softwareAgent"), dict) else {}
        recipe = dict(self.recipe or {})
        recipe.setdefault("model", agent.get("org.latentcut.model") or {"name": "", "sha256": ""})
        recipe.setdefault("engine_version", agent.get("version") or "")
        recipe.setdefault("op", "generate")
        return {**recipe, "generated": True, "status": "done", "credentials": self.record()}

    def to_json(self, full: bool = True) -> dict[str, Any]:
        data = asdict(self)
        data["label"] = self.label
        if not full:
            data.pop("report")
        return data


def read_credentials(path: str | os.PathLike, trust_anchors: str | None = None) -> Credentials:
    """The credentials of `path`. `trust_anchors` is a PEM file of CAs whose signers count as
    trusted ("valid"); a correct signature from any other signer reads as "untrusted"."""
    import c2pa

    path = Path(path)
    if not path.is_file():
        raise MissingMedia(path, "file not found")
    return _read(path, lambda context: c2pa.Reader.try_create(str(path), context=context), trust_anchors)


def read_stream(path: str | os.PathLike, mime: str, stream, trust_anchors: str | None = None) -> Credentials:
    """The credentials of a file still open as `stream` (of type `mime`): signing checks what
    it wrote before the file gets its name. `path` is the name the credentials are given."""
    import c2pa

    return _read(Path(path), lambda context: c2pa.Reader.try_create(mime, stream, context=context), trust_anchors)


def _read(path: Path, open_reader, trust_anchors: str | None) -> Credentials:
    import c2pa

    try:
        reader = open_reader(reading_context(trust_anchors))
    except c2pa.C2paError.NotSupported:
        return Credentials(str(path), "none")
    except c2pa.C2paError as exc:  # a manifest is there but cannot be read: damaged
        return Credentials(str(path), "invalid", reason=f"the manifest cannot be read ({exc})")
    if reader is None:
        return Credentials(str(path), "none")
    with reader:
        store = json.loads(reader.json())
        state = reader.get_validation_state() or "Invalid"
        results = reader.get_validation_results() or {}
    return _from_store(path, store, state, results)


def _from_store(path: Path, store: dict, state: str, results: dict) -> Credentials:
    manifest_id = store.get("active_manifest")
    manifest = (store.get("manifests") or {}).get(manifest_id) or {}
    failures = (results.get("activeManifest") or {}).get("failure") or []
    codes = [f.get("code") for f in failures]
    if state == "Trusted":
        ours = "valid"
    elif state == "Valid":
        ours = "untrusted" if _UNTRUSTED in codes else "valid"
    else:
        ours = "invalid"
    reasons = [_REASONS.get(f.get("code"), f.get("explanation") or f.get("code")) for f in failures
               if f.get("code") != _UNTRUSTED]
    actions = [a for assertion in manifest.get("assertions") or []
               if assertion.get("label", "").startswith("c2pa.actions")
               for a in (assertion.get("data") or {}).get("actions") or []]
    source_types = [a.get("digitalSourceType") for a in actions if a.get("digitalSourceType")]
    custom = {a.get("label"): a.get("data") for a in manifest.get("assertions") or []}
    info = manifest.get("signature_info") or {}
    generator = manifest.get("claim_generator_info") or [{}]
    return Credentials(
        path=str(path), state=ours,
        reason="; ".join(dict.fromkeys(reasons)) if ours == "invalid" else "",
        manifest_id=manifest_id,
        generated=TRAINED in source_types,
        contains_generated=COMPOSITE_WITH_TRAINED in source_types,
        source_type=source_types[0].rsplit("/", 1)[-1] if source_types else None,
        signer=info.get("common_name") or "", issuer=info.get("issuer") or "", signed_at=info.get("time"),
        generator=" ".join(str(generator[0].get(k, "")) for k in ("name", "version")).strip(),
        actions=actions,
        ingredients=[_ingredient(i, store) for i in manifest.get("ingredients") or []],
        recipe=custom.get(RECIPE_LABEL),
        segments=(custom.get(SEGMENTS_LABEL) or {}).get("segments") or [],
        report={"store": store, "validation_state": state, "validation_results": results},
    )


def _ingredient(ingredient: dict, store: dict) -> dict[str, Any]:
    own = ingredient.get("active_manifest")
    failures = ((ingredient.get("validation_results") or {}).get("activeManifest") or {}).get("failure") or []
    manifest = (store.get("manifests") or {}).get(own) or {}
    actions = [a for s in manifest.get("assertions") or [] if s.get("label", "").startswith("c2pa.actions")
               for a in (s.get("data") or {}).get("actions") or []]
    return {"title": ingredient.get("title"), "relationship": ingredient.get("relationship"),
            "instance_id": ingredient.get("instance_id"), "manifest_id": own,
            "generated": any(a.get("digitalSourceType") == TRAINED for a in actions),
            "problems": [f.get("code") for f in failures if f.get("code") != _UNTRUSTED]}


_contexts: dict[str | None, Any] = {}
_contexts_lock = threading.Lock()


def reading_context(trust_anchors: str | None):
    """A c2pa reading context with the trust anchors (one per anchors file)."""
    import c2pa

    with _contexts_lock:
        if trust_anchors not in _contexts:
            if trust_anchors is None:
                _contexts[None] = c2pa.Context()
            else:
                try:
                    pem = Path(trust_anchors).read_text()
                except OSError as exc:
                    raise ValueError(f"{trust_anchors}: cannot read the trust anchors "
                                     f"({exc.strerror or exc})") from None
                _contexts[trust_anchors] = c2pa.Context.from_dict({"trust": {"trust_anchors": pem}})
        return _contexts[trust_anchors]
