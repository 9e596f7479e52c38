"""Run every ``benchmarks/bench_*.py``: ``python -m benchmarks.run [--quick] [NAME...]``.

Each benchmark module has ``main(quick: bool) -> None``. Each runs in its own Python
process, so that one benchmark's memory and imports cannot skew the next one's figures.
Exit code: 0 when every benchmark finished, 1 otherwise.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent


def discover() -> list[str]:
    """Names of the benchmark modules (``bench_header``, ...), sorted."""
    return sorted(p.stem for p in HERE.glob("bench_*.py"))


def run_one(name: str, *, quick: bool) -> int:
    """Run ``benchmarks.<name>.main(quick)`` in a child process; return its exit code."""
    code = f"import benchmarks.{name} as m; m.main(quick={quick!r})"
    return subprocess.run([sys.executable, "-c", code], cwd=HERE.parent, check=False).returncode


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small inputs, for a smoke run")
    parser.add_argument("names", nargs="*", help="run only these (e.g. bench_header)")
    args = parser.parse_args(argv)
    names = discover()
    unknown = sorted(set(args.names) - set(names))
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown}; known: {names}")
    failed = []
    for name in args.names or names:
        print(f"=== {name}{' (quick)' if args.quick else ''}", flush=True)
        start = time.perf_counter()
        code = run_one(name, quick=args.quick)
        print(f"=== {name}: exit {code} after {time.perf_counter() - start:.0f} s", flush=True)
        if code != 0:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
