"""``dicomscrub serve``: run the HTTP job service (FastAPI on uvicorn)."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

__all__ = ["add_settings_arguments", "register", "run", "settings_from_args"]


def add_settings_arguments(p: argparse.ArgumentParser) -> None:
    """The flags that locate the service's database and secrets (shared with ``keys``)."""
    p.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help="service settings in TOML (default: $DICOMSCRUB_SERVICE_CONFIG)",
    )
    p.add_argument(
        "--data-dir",
        type=Path,
        help="folder for the SQLite database and the server secret "
        "(default: $DICOMSCRUB_DATA_DIR or the user's data folder)",
    )
    p.add_argument(
        "--database-url",
        help="SQLAlchemy URL, e.g. postgresql+psycopg://host/db (default: SQLite in --data-dir)",
    )
    p.add_argument(
        "--secret-key-file",
        type=Path,
        help="Fernet key sealing integration credentials (default: generated in --data-dir, "
        "or $DICOMSCRUB_SECRET_KEY)",
    )


def register(sub: Any) -> None:
    """Add the ``serve`` sub-command."""
    p: argparse.ArgumentParser = sub.add_parser(
        "serve",
        help="run the HTTP job service",
        description="Serve the de-identification job API. Settings come from flags, then "
        "DICOMSCRUB_* variables, then the TOML file given by --config.",
    )
    p.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port to listen on (default 8000)")
    add_settings_arguments(p)
    p.add_argument(
        "--key-file",
        type=Path,
        help="hashing key file, as for 'deidentify' (default: $DICOMSCRUB_KEY, "
        "$DICOMSCRUB_KEY_FILE or the generated key)",
    )
    p.add_argument("--job-processes", type=int, help="jobs running at once (default 2)")
    p.add_argument("--job-workers", type=int, help="worker processes inside one job (default 1)")
    p.add_argument(
        "--max-poll-seconds",
        type=float,
        help="longest wait of one long-poll request (default 60)",
    )
    p.add_argument(
        "--log-level",
        choices=("critical", "error", "warning", "info", "debug"),
        help="log level (default info)",
    )
    p.set_defaults(func=run)


def settings_from_args(args: argparse.Namespace) -> Any:
    """The service settings: flags over environment over the TOML file."""
    from dicomscrub.service.settings import load_settings

    names = (
        "host",
        "port",
        "data_dir",
        "database_url",
        "secret_key_file",
        "key_file",
        "job_processes",
        "job_workers",
        "max_poll_seconds",
        "log_level",
    )
    flags = {name: getattr(args, name, None) for name in names}
    return load_settings(flags, config_file=args.config)


def run(args: argparse.Namespace) -> int:
    """Serve until interrupted; returns the exit code."""
    try:
        import uvicorn

        from dicomscrub.service.app import create_app
    except ImportError as exc:
        print(
            f"dicomscrub serve needs the service extra ({exc.name} is missing): "
            "pip install 'dicomscrub[service]'",
            file=sys.stderr,
        )
        return 2
    settings = settings_from_args(args)
    logging.getLogger("dicomscrub").setLevel(settings.log_level.upper())
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        # Long-polls hold connections up to max_poll_seconds; do not wait them out.
        timeout_graceful_shutdown=5,
    )
    uvicorn.Server(config).run()
    return 0
