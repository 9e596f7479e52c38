"""``dicomscrub inspect FILE``: a dry run of one file, attribute by attribute.

Prints, per attribute (sequence items included), its path, keyword, the action taken
and whether the value changed; never a value. Exit 1 when the file cannot be
de-identified (the error code says why), 2 when it cannot be found.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from dicomscrub.cli.options import add_policy_arguments, policy_from_args
from dicomscrub.errors import ConfigError, StorageError
from dicomscrub.pipeline import read_dataset, scrub_dataset
from dicomscrub.storage import load_integration, read_bytes

__all__ = ["register", "run"]

_COLUMNS = (("path", 44), ("keyword", 36), ("action", 18))


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "inspect",
        help="show what de-identification would do to one file (no values shown)",
    )
    p.add_argument("file", metavar="FILE", help="a DICOM file (path or URL)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--integration", help="storage integration for a FILE given as a URL")
    add_policy_arguments(p)
    p.set_defaults(func=run)


def _row(cells: tuple[str, ...], changed: str) -> str:
    padded = (cell[:width].ljust(width) for cell, (_, width) in zip(cells, _COLUMNS, strict=True))
    return " ".join((*padded, changed))


def run(args: argparse.Namespace) -> int:
    policy, key_note = policy_from_args(args)
    print(key_note, file=sys.stderr)
    integration = load_integration(args.integration) if args.integration else None
    try:
        data = read_bytes(args.file, integration=integration)
    except StorageError as exc:
        raise ConfigError(f"cannot read {args.file}: {exc.args[0]}") from None
    result = scrub_dataset(read_dataset(data), policy)
    actions = [a.to_json() for a in result.header.actions] if result.header else []
    if args.json:
        json.dump({"actions": actions, "pixel_regions": result.pixel_regions}, sys.stdout, indent=1)
        print()
        return 0
    print(_row(tuple(name for name, _ in _COLUMNS), "changed"))
    for a in actions:
        print(_row((a["path"], a["keyword"], a["action"]), "yes" if a["changed"] else "no"))
    changed = sum(1 for a in actions if a["changed"])
    print(f"{len(actions)} attributes examined, {changed} changed or removed", file=sys.stderr)
    if result.pixel_regions:
        print(f"{len(result.pixel_regions)} pixel regions would be blanked", file=sys.stderr)
    return 0
