"""``dicomscrub integrations add | list | remove | test``: named storage integrations.

Secrets are given as ``--credential NAME=VALUE``, or as ``--credential NAME`` alone to
type them at a prompt (or pipe them on standard input, one line each) so that they stay
out of the shell history, or as ``--credential-env NAME=VARIABLE`` to read them from the
environment when the integration is used. ``list`` shows which credentials are set and
where from, never their values.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from typing import Any

from dicomscrub.errors import ConfigError, StorageError
from dicomscrub.storage.access import check_access
from dicomscrub.storage.fs import list_one
from dicomscrub.storage.integrations import (
    KINDS,
    Integration,
    describe_integration,
    integrations_path,
    load_integration,
    load_integrations,
    remove_integration,
    save_integration,
)
from dicomscrub.storage.io import remote_location

__all__ = ["register", "run"]

EXIT_OK = 0
EXIT_CONFIG = 2


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add the ``integrations`` sub-command to the CLI's ``subparsers``."""
    parser = subparsers.add_parser(
        "integrations",
        help="manage named storage integrations (credentials for s3, gcs, azure, http)",
        description=__doc__.splitlines()[0] if __doc__ else None,
    )
    actions = parser.add_subparsers(dest="integrations_action", metavar="ACTION", required=True)

    add = actions.add_parser("add", help="register (or with --replace, update) an integration")
    add.add_argument("name", help="the integration's name, used as --integration NAME")
    add.add_argument("--kind", required=True, choices=KINDS, help="which kind of storage")
    add.add_argument("--endpoint-url", help="S3-compatible endpoint, emulator or blob endpoint")
    add.add_argument("--region", help="the region (S3)")
    add.add_argument("--profile", help="an AWS profile (~/.aws/credentials section) (S3)")
    add.add_argument("--anonymous", action="store_true", help="unsigned access to public data")
    add.add_argument(
        "--credential",
        action="append",
        default=[],
        metavar="NAME[=VALUE]",
        help="a credential; without =VALUE it is prompted for (or read from stdin)",
    )
    add.add_argument(
        "--credential-env",
        action="append",
        default=[],
        metavar="NAME=VARIABLE",
        help="a credential read from an environment variable each time it is used",
    )
    add.add_argument("--replace", action="store_true", help="overwrite one of the same name")

    lst = actions.add_parser("list", help="list integrations (never their secrets)")
    lst.add_argument("--json", action="store_true", help="one JSON object per line")

    rm = actions.add_parser("remove", help="forget an integration")
    rm.add_argument("name")

    test = actions.add_parser(
        "test", help="list one object under URL, then write and delete a probe object"
    )
    test.add_argument("name")
    test.add_argument("url", help="a bucket, prefix or object URL this integration serves")
    test.add_argument("--read-only", action="store_true", help="do not write the probe")
    parser.set_defaults(func=run)


def _read_secret(name: str) -> str:
    if sys.stdin.isatty():
        return getpass.getpass(f"{name}: ")
    line = sys.stdin.readline()
    if not line:
        raise ConfigError(f"no value for credential {name} on standard input")
    return line.rstrip("\r\n")


def _pairs(items: list[str], flag: str, prompt: bool) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep:
            if not prompt:
                raise ConfigError(f"{flag} expects NAME=VARIABLE, got {name!r}")
            value = _read_secret(name)
        pairs[name.strip()] = value
    return pairs


def _add(args: argparse.Namespace) -> int:
    integration = Integration(
        name=args.name,
        kind=args.kind,
        endpoint_url=args.endpoint_url,
        region=args.region,
        credentials=_pairs(args.credential, "--credential", prompt=True),
        credentials_env=_pairs(args.credential_env, "--credential-env", prompt=False),
        profile=args.profile,
        anonymous=args.anonymous,
    )
    save_integration(integration, replace=args.replace)
    print(f"saved integration {integration.name!r} ({integration.kind}) in {integrations_path()}")
    return EXIT_OK


def _list(args: argparse.Namespace) -> int:
    found = load_integrations()
    if args.json:
        for integration in found.values():
            print(json.dumps(describe_integration(integration), sort_keys=True))
        return EXIT_OK
    if not found:
        print(f"no integrations (in {integrations_path()})")
        return EXIT_OK
    for integration in found.values():
        view = describe_integration(integration)
        creds = ", ".join(f"{k}={v}" for k, v in view["credentials"].items()) or "-"
        where = view["endpoint_url"] or view["region"] or "default endpoint"
        extra = f" profile={view['profile']}" if view["profile"] else ""
        extra += " anonymous" if view["anonymous"] else ""
        print(f"{view['name']}\t{view['kind']}\t{where}\tcredentials: {creds}{extra}")
    return EXIT_OK


def _remove(args: argparse.Namespace) -> int:
    remove_integration(args.name)
    print(f"removed integration {args.name!r}")
    return EXIT_OK


def _test(args: argparse.Namespace) -> int:
    integration = load_integration(args.name)
    loc, integ = remote_location(args.url, integration)
    if integ is None:
        raise ConfigError(f"integration {args.name!r} does not serve {args.url!r}")
    check_access(args.url, integration=integration, write=False)
    if loc.scheme == "http":
        print(f"ok: read access to {args.url} (plain https: read-only, no listing)")
        return EXIT_OK
    listed = list_one(loc if loc.is_prefix else loc.parent(), integ)
    print(f"ok: read access to {args.url} ({len(listed)} object listed)")
    if not args.read_only:
        check_access(args.url, integration=integration, write=True, probe=True)
        print("ok: wrote and deleted a probe object")
    return EXIT_OK


def run(args: argparse.Namespace) -> int:
    """Carry out ``integrations ACTION``; 0 when done, 2 on a configuration error."""
    action = {"add": _add, "list": _list, "remove": _remove, "test": _test}
    try:
        return action[args.integrations_action](args)
    except (ConfigError, StorageError) as exc:
        print(f"dicomscrub integrations: {exc}", file=sys.stderr)
        return EXIT_CONFIG
