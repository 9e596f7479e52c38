"""``dicomscrub keys``: create, list and revoke the service's API keys."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from dicomscrub.cli.serve_cmd import add_settings_arguments, settings_from_args

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    """Add the ``keys`` sub-command."""
    p: argparse.ArgumentParser = sub.add_parser(
        "keys",
        help="manage API keys of the HTTP service",
        description="API keys for 'dicomscrub serve'. A key is printed once, at creation; "
        "only its hash is stored.",
    )
    actions = p.add_subparsers(dest="keys_action", metavar="ACTION", required=True)
    create = actions.add_parser("create", help="create a key and print it (once)")
    create.add_argument("--name", required=True, help="the owner: jobs belong to this name")
    add_settings_arguments(create)
    revoke = actions.add_parser("revoke", help="revoke a key by its id (or the key itself)")
    revoke.add_argument("key_id", metavar="ID")
    add_settings_arguments(revoke)
    listing = actions.add_parser("list", help="list keys (ids and owners, never the keys)")
    add_settings_arguments(listing)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run one ``keys`` action; returns the exit code."""
    try:
        from dicomscrub.service.auth import create_key, list_keys, revoke_key
        from dicomscrub.service.db import make_engine, migrate
    except ImportError as exc:
        print(
            f"dicomscrub keys needs the service extra ({exc.name} is missing): "
            "pip install 'dicomscrub[service]'",
            file=sys.stderr,
        )
        return 2
    settings = settings_from_args(args)
    engine = make_engine(settings.effective_database_url)
    try:
        migrate(engine)
        if args.keys_action == "create":
            info, key = create_key(engine, args.name)
            print(key)
            print(
                f"created key {info.id} for {info.owner!r}; it is shown only this once",
                file=sys.stderr,
            )
        elif args.keys_action == "revoke":
            info = revoke_key(engine, args.key_id)
            print(f"revoked key {info.id} of {info.owner!r}", file=sys.stderr)
        else:
            for item in list_keys(engine):
                state = "revoked" if item.revoked else "active"
                print(f"{item.id}\t{item.owner}\t{state}")
    finally:
        engine.dispose()
    return 0
