"""``dicomscrub inspect FILE``: a dry run of one file, attribute by attribute."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from dicomscrub.cli.options import add_policy_arguments, policy_from_args
from dicomscrub.pipeline import read_dataset, scrub_dataset

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "inspect",
        help="show what de-identification would do to one file (no values shown)",
    )
    p.add_argument("file", type=Path)
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    add_policy_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    policy, key_note = policy_from_args(args)
    print(key_note, file=sys.stderr)
    from dicomscrub.storage import read_bytes

    ds = read_dataset(read_bytes(str(args.file)))
    result = scrub_dataset(ds, policy)
    actions = [a.to_json() for a in result.header.actions] if result.header else []
    if args.json:
        json.dump({"actions": actions, "pixel_regions": result.pixel_regions}, sys.stdout, indent=1)
        print()
        return 0
    print(f"{'path':<44} {'keyword':<36} {'action':<18} changed")
    for a in actions:
        print(f"{a['path']:<44} {a['keyword'][:36]:<36} {a['action']:<18} {'yes' if a['changed'] else 'no'}")
    changed = sum(1 for a in actions if a["changed"])
    print(f"{len(actions)} attributes examined, {changed} changed or removed", file=sys.stderr)
    if result.pixel_regions:
        print(f"{len(result.pixel_regions)} pixel regions would be blanked", file=sys.stderr)
    return 0
