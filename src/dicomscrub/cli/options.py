"""Arguments shared by sub-commands that build a de-identification policy."""

from __future__ import annotations

import argparse
from pathlib import Path

from dicomscrub.api import build_policy
from dicomscrub.profile.options import Option
from dicomscrub.profile.policy import PixelMode, Policy

__all__ = ["add_policy_arguments", "policy_from_args"]


def add_policy_arguments(parser: argparse.ArgumentParser) -> None:
    """``--key-file``, ``--profile``, ``--option``, ``--pixels`` and friends."""
    group = parser.add_argument_group("de-identification policy")
    group.add_argument(
        "--key-file",
        type=Path,
        help="file holding the hashing key (default: $DICOMSCRUB_KEY, $DICOMSCRUB_KEY_FILE, "
        "or a key generated once in the user's config folder)",
    )
    group.add_argument("--profile", type=Path, help="TOML profile file (options, overrides)")
    group.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="NAME",
        choices=[o.value for o in Option],
        help="a PS3.15 option (repeatable): " + ", ".join(o.value for o in Option),
    )
    group.add_argument(
        "--pixels",
        default=PixelMode.NONE.value,
        choices=[m.value for m in PixelMode],
        help="burned-in text: none (default), all-text, sensitive-text",
    )
    group.add_argument(
        "--pixel-rules", type=Path, metavar="FILE", help="TOML rules of fixed regions to blank"
    )
    group.add_argument(
        "--union-frames",
        action="store_true",
        help="apply text regions found in any frame to every frame",
    )
    group.add_argument(
        "--lossy-reencode",
        action="store_true",
        help="re-encode lossy sources lossily instead of writing them decoded",
    )
    group.add_argument(
        "--patient-lookup",
        type=Path,
        metavar="CSV",
        help="CSV original_id,new_id,new_name giving patients' new identities",
    )
    group.add_argument(
        "--keep-tags",
        action="store_true",
        help="do not de-identify the header (the reference's redact_dicom_tags=False)",
    )


def policy_from_args(args: argparse.Namespace) -> tuple[Policy, str]:
    """The policy, and a line saying where the key came from (never the key)."""
    from dicomscrub.keys import resolve_key

    resolved = resolve_key(args.key_file)
    policy = build_policy(
        key=resolved.key,
        options=args.option,
        profile=args.profile,
        patient_lookup=args.patient_lookup,
        redact_tags=not args.keep_tags,
        pixels=args.pixels,
        pixel_rules=args.pixel_rules,
        union_frames=args.union_frames,
        lossy_reencode=args.lossy_reencode,
    )
    note = f"key: {resolved.origin} (fingerprint {resolved.fingerprint})"
    if resolved.generated:
        note = (
            "generated a new key and stored it: " + note + "; keep it to get the same output later"
        )
    return policy, note
