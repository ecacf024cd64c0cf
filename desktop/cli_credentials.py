"""The command line's side of Content Credentials: the signing options shared by every
command that writes media, and `latentcut verify`.

verify exits 0 when the credentials are valid (also when the signature is good but the
signer is not trusted: it says so), 1 when they are invalid (with the reason), 3 when the
file has none.
"""
from __future__ import annotations

import argparse
import json
import sys

from engine.credentials import SigningSettings
from engine.credentials.settings import configured_trust_anchors

EXIT_INVALID = 1
EXIT_NONE = 3


def add_signing_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("Content Credentials (C2PA)")
    g.add_argument("--sign-cert", metavar="CHAIN.pem",
                   help="the studio's signing certificate chain, signing certificate first "
                        "(default: $LATENTCUT_SIGN_CERT, else the local, untrusted signer)")
    g.add_argument("--sign-key", metavar="KEY.pem", help="its private key (default: $LATENTCUT_SIGN_KEY)")
    g.add_argument("--tsa-url", metavar="URL", help="an RFC 3161 timestamp authority (default: $LATENTCUT_TSA_URL)")
    g.add_argument("--no-sign", action="store_true", help="write without Content Credentials")


def signing_from_args(args) -> SigningSettings:
    """The signing settings of this command; says on stderr when signing is off."""
    settings = SigningSettings.resolve(no_sign=args.no_sign, cert=args.sign_cert, key=args.sign_key,
                                       tsa_url=args.tsa_url)
    if not settings.enabled:
        print("latentcut: --no-sign: the files this command writes carry no Content Credentials",
              file=sys.stderr)
    return settings


def add_verify_command(sub) -> None:
    p = sub.add_parser("verify", help="check a media file's Content Credentials (C2PA); "
                                      "exit 0 valid, 1 invalid, 3 none")
    p.add_argument("file", help="the media file to check")
    p.add_argument("--trust-anchors", metavar="CAS.pem",
                   help="CA certificates whose signers count as trusted (default: $LATENTCUT_TRUST_ANCHORS)")
    p.add_argument("--json", action="store_true", help="print everything the manifest store holds")
    p.set_defaults(func=cmd_verify)


def cmd_verify(args) -> int:
    from engine.credentials.reading import read_credentials

    creds = read_credentials(args.file, trust_anchors=args.trust_anchors or configured_trust_anchors())
    if args.json:
        print(json.dumps(creds.to_json(), indent=2, sort_keys=True, default=str))
    else:
        print("\n".join(describe(creds)))
    return {"none": EXIT_NONE, "invalid": EXIT_INVALID}.get(creds.state, 0)


def describe(creds) -> list[str]:
    """The manifest chain in plain words."""
    if creds.state == "none":
        return [f"{creds.path}: no Content Credentials"]
    state = {"valid": "valid", "untrusted": "valid signature, but the signer is untrusted "
                                            "(not issued by a trusted certificate authority)",
             "invalid": f"INVALID: {creds.reason}"}[creds.state]
    lines = [f"{creds.path}: Content Credentials {state}",
             f"  manifest   {creds.manifest_id}",
             f"  signed by  {creds.signer or 'unknown'}" + (f" (issuer {creds.issuer})" if creds.issuer else "")
             + (f" at {creds.signed_at}" if creds.signed_at else ""),
             f"  made with  {creds.generator or 'unknown'}"]
    for action in creds.actions:
        kind = (action.get("digitalSourceType") or "").rsplit("/", 1)[-1]
        agent = action.get("softwareAgent") or {}
        model = agent.get("org.latentcut.model") if isinstance(agent, dict) else None
        words = [f"  action     {action.get('action')}"]
        if kind:
            words.append(f"({kind})")
        if action.get("description"):
            words.append(f"- {action['description']}")
        if model:
            words.append(f"[model {model.get('name')} sha256 {str(model.get('sha256'))[:12]}…]")
        lines.append(" ".join(words))
        for change in action.get("changes") or []:
            for region in change.get("region") or []:
                time = region.get("time") or {}
                lines.append(f"               at {time.get('start')}-{time.get('end')} s: {change.get('description', '')}")
    if creds.recipe:
        recipe = creds.recipe
        fields = [f"{k.replace('_', ' ')} {recipe[k]!r}" for k in ("prompt", "negative_prompt", "seed", "steps",
                                                                  "guidance", "strength") if recipe.get(k) not in (None, "")]
        lines.append(f"  recipe     {recipe.get('op')}: {', '.join(fields)}")
    for ing in creds.ingredients:
        chain = (f"its own manifest {ing['manifest_id']}" + (" (made by a model)" if ing["generated"] else "")
                 if ing.get("manifest_id") else "no manifest of its own")
        problems = f"; problems: {', '.join(ing['problems'])}" if ing.get("problems") else ""
        lines.append(f"  ingredient {ing['title']} ({ing['relationship']}), {chain}{problems}")
    if creds.segments:
        lines.append(f"  generated segments: {len(creds.segments)}")
    return lines


def credentials_summary(path: str) -> dict:
    """The short form `latentcut probe` adds to its JSON."""
    from engine.credentials.reading import read_credentials

    creds = read_credentials(path, trust_anchors=configured_trust_anchors())
    return {"state": creds.label, "manifest": creds.manifest_id, "generated": creds.generated,
            "contains_generated": creds.contains_generated, "signer": creds.signer or None,
            "reason": creds.reason or None, "summary": creds.summary()}
