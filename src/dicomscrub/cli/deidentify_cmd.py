"""``dicomscrub deidentify SRC... --out DIR``: the batch job."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from dicomscrub.batch import BatchSummary, JobSpec, run_batch
from dicomscrub.batch.executors import EXECUTORS, default_workers
from dicomscrub.cli.options import add_policy_arguments, policy_from_args
from dicomscrub.conditions import Condition, load_conditions_file, parse_condition
from dicomscrub.errors import ConfigError
from dicomscrub.storage.integrations import Integration
from dicomscrub.storage.naming import DEFAULT_NAME_TEMPLATE

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "deidentify",
        help="de-identify files, folders, globs or URLs",
        description="De-identify DICOM files. Exit 0: all saved or skipped; 1: some "
        "files failed (see the report); 2: configuration error, nothing touched.",
    )
    p.add_argument("sources", nargs="+", metavar="SRC", help="file, folder, glob, list file or URL")
    p.add_argument("--out", help="output folder or URL prefix (default: beside each source)")
    p.add_argument(
        "--condition",
        action="append",
        default=[],
        metavar="EXPR",
        help="save condition, e.g. 'Modality in CT,MR' or 'ImageType not-substr PRIMARY'",
    )
    p.add_argument("--conditions", type=Path, metavar="FILE", help="JSON list of save conditions")
    p.add_argument("--report", help="report file (JSON Lines; default beside the outputs)")
    p.add_argument(
        "--workers", type=int, default=None, help=f"worker processes (default {default_workers()})"
    )
    p.add_argument("--executor", choices=EXECUTORS, default="process", help=argparse.SUPPRESS)
    p.add_argument(
        "--name-template",
        default=DEFAULT_NAME_TEMPLATE,
        help="output file name; fields {timestamp} {name} {stem} {suffix} "
        f"(default {DEFAULT_NAME_TEMPLATE})",
    )
    p.add_argument("--dry-run", action="store_true", help="write the report only, no files")
    p.add_argument(
        "--resume",
        action="store_true",
        help="skip inputs the report already lists as saved (needs the same --report)",
    )
    p.add_argument("--timestamp", type=int, help="the job's timestamp (default: now)")
    p.add_argument("--integration", help="storage integration for inputs and outputs")
    p.add_argument("--input-integration", help="storage integration for inputs")
    p.add_argument("--output-integration", help="storage integration for outputs")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress, summary only")
    add_policy_arguments(p)
    p.set_defaults(func=run)


def _conditions(args: argparse.Namespace) -> tuple[Condition, ...]:
    found = [parse_condition(expr) for expr in args.condition]
    if args.conditions is not None:
        found.extend(load_conditions_file(args.conditions))
    return tuple(found)


def _integrations(args: argparse.Namespace) -> tuple[Integration | None, Integration | None]:
    names = (
        args.input_integration or args.integration,
        args.output_integration or args.integration,
    )
    if not any(names):
        return None, None
    from dicomscrub.storage.integrations import load_integration

    inputs, outputs = (load_integration(name) if name else None for name in names)
    return inputs, outputs


def print_summary(
    summary: BatchSummary, *, dry_run: bool, timestamp: int, stream: TextIO | None = None
) -> None:
    """The end-of-job summary: counts by outcome, failures by code, where the report is."""
    stream = stream or sys.stdout
    verb = "would be saved" if dry_run else "saved"
    print(
        f"{summary.total} files: {summary.saved} {verb}, {summary.skipped} skipped by "
        f"save conditions, {summary.failed} failed",
        file=stream,
    )
    for code, count in sorted(summary.failures_by_code.items()):
        print(f"  failed ({code}): {count}", file=stream)
    if summary.cancelled:
        print("  cancelled before every file was processed", file=stream)
    print(f"report: {summary.report_url}", file=stream)
    print(f"timestamp: {timestamp} (pass --timestamp {timestamp} --resume to resume)", file=stream)


def _check_resume(args: argparse.Namespace) -> None:
    # Output names and the default report name carry the job's timestamp: a resume
    # with a new one would find none of the earlier outputs and redo the whole job.
    needs_timestamp = "{timestamp}" in args.name_template or args.report is None
    if args.resume and args.timestamp is None and needs_timestamp:
        raise ConfigError(
            "--resume needs the --timestamp of the run it resumes (printed by that run)"
        )


def run(args: argparse.Namespace) -> int:
    _check_resume(args)
    policy, key_note = policy_from_args(args)
    conditions = _conditions(args)
    input_integration, output_integration = _integrations(args)
    spec = JobSpec(
        sources=tuple(args.sources),
        policy=policy,
        out=args.out,
        conditions=conditions,
        name_template=args.name_template,
        timestamp=args.timestamp if args.timestamp is not None else int(time.time()),
        dry_run=args.dry_run,
        workers=default_workers() if args.workers is None else args.workers,
        executor=args.executor,
        resume=args.resume,
        report_url=args.report,
        input_integration=input_integration,
        output_integration=output_integration,
    )
    print(key_note, file=sys.stderr)
    progress = None
    if not args.quiet:
        from dicomscrub.cli.progress import Progress

        progress = Progress()
    summary = run_batch(spec, on_progress=progress)
    if args.out and not args.dry_run:
        print(f"outputs: {args.out}")
    elif not args.dry_run:
        print("outputs: beside each source")
    print_summary(summary, dry_run=args.dry_run, timestamp=spec.timestamp)
    return 1 if summary.failed else 0
