"""The ``dicomscrub`` command line.

Exit codes: 0 every input saved or skipped by conditions; 1 the job finished but some
files failed (the report says which and why); 2 a usage or configuration error,
reported before any file was touched.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from dicomscrub import __version__
from dicomscrub.errors import ConfigError, DicomscrubError

__all__ = ["EXIT_CONFIG", "EXIT_FAILURES", "EXIT_OK", "build_parser", "main"]

EXIT_OK = 0
EXIT_FAILURES = 1
EXIT_CONFIG = 2

#: Sub-command modules that register themselves (``register(subparsers)``).
_PLUGGABLE = (
    "dicomscrub.cli.deidentify_cmd",
    "dicomscrub.cli.inspect_cmd",
    "dicomscrub.cli.integrations_cmd",
    "dicomscrub.cli.serve_cmd",
    "dicomscrub.cli.keys_cmd",
)


#: Sub-commands that are part of the core and must always import.
_REQUIRED = ("dicomscrub.cli.deidentify_cmd", "dicomscrub.cli.inspect_cmd")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        # argparse exits with 2 already; keep its message but make it ours.
        self.print_usage(sys.stderr)
        raise SystemExit(f"dicomscrub: error: {message}")


def build_parser() -> argparse.ArgumentParser:
    """The full parser, with every sub-command whose module is importable."""
    parser = _Parser(prog="dicomscrub", description="De-identify DICOM files (PS3.15).")
    parser.add_argument("--version", action="version", version=f"dicomscrub {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in _PLUGGABLE:
        try:
            module = importlib.import_module(name)
        except ImportError as exc:
            # A command not installed (its module, or a third-party package of an extra
            # such as the service's) is simply absent; a broken module of ours is a bug.
            missing = exc.name or ""
            absent = missing == name or not missing.startswith("dicomscrub")
            if name in _REQUIRED or not absent:
                raise
            continue
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (the console script exits with it)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        if isinstance(exc.code, str):
            print(exc.code, file=sys.stderr)
            return EXIT_CONFIG
        return int(exc.code or 0)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_CONFIG
    try:
        return int(args.func(args))
    except ConfigError as exc:
        print(f"dicomscrub: configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except DicomscrubError as exc:
        print(f"dicomscrub: error: {exc}", file=sys.stderr)
        return EXIT_FAILURES
    except KeyboardInterrupt:
        print("dicomscrub: interrupted", file=sys.stderr)
        return 130


def run() -> None:
    """Console-script entry point."""
    raise SystemExit(main())


if __name__ == "__main__":
    run()
