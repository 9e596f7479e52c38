"""Header-only throughput and memory: dicomscrub against plain pydicom and dicognito.

``python -m benchmarks.run bench_header [--quick]``. Generates (once) 2,000 synthetic
512x512 int16 CT files with PHI everywhere in ``bench-data/header/``, then times four
jobs over the same files, each as a child process measured the same way (wall time
from start to exit, interpreter start-up included; peak memory of its process tree):

a. plain pydicom: read and write every file (the ceiling: parsing and writing alone);
b. ``dicomscrub deidentify --workers 1``;
c. ``dicomscrub deidentify --workers 2``;
d. ``dicognito`` (``python -m dicognito --output-directory``), a single process.

Peak RSS is sampled with psutil every 20 ms over the whole process tree (the CLI and
every pool worker), summing the RSS of all live processes at each sample and keeping
the largest sum. ``getrusage(RUSAGE_CHILDREN).ru_maxrss`` would not do: it reports the
largest single descendant, not the workers together. Summed RSS counts pages shared
after fork once per process, so the figure errs high, which is the safe side for a
ceiling. ``--quick`` uses 200 files.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import psutil
import pydicom

from dicomscrub.synthetic.patients import (
    SyntheticPatient,
    find_phi,
    make_patients,
    planted_phi,
    write_series,
)

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench-data" / "header"
SIZE = 512
SERIES_LENGTH = 100
SAMPLE_SECONDS = 0.02
PHI_SAMPLE = 20
REPEATS = 3
GENERATOR_VERSION = "2"

TARGET_1W_VS_PYDICOM = 0.8
TARGET_2W_VS_DICOGNITO = 3.0
TARGET_PEAK_RSS_MB = 400.0


@dataclass(frozen=True)
class Run:
    """One measured job."""

    name: str
    seconds: float
    files: int
    peak_rss_mb: float
    exit_code: int
    phi_files: int
    phi_sampled: int

    @property
    def files_per_second(self) -> float:
        return self.files / self.seconds if self.seconds else 0.0


def corpus_patients(n: int) -> list[SyntheticPatient]:
    """The patients of the ``n``-file corpus: two series of 100 files each."""
    return make_patients(math.ceil(math.ceil(n / SERIES_LENGTH) / 2), seed=1)


def ensure_corpus(n: int) -> Path:
    """The folder of ``n`` CT files, generated unless a complete one is there already."""
    folder = DATA / f"ct{SIZE}-{n}"
    marker = folder / ".complete"
    if marker.exists() and marker.read_text().strip() == f"{GENERATOR_VERSION} {n}":
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    series = math.ceil(n / SERIES_LENGTH)
    patients = corpus_patients(n)
    start = time.perf_counter()
    written = 0
    for index in range(series):
        count = min(SERIES_LENGTH, n - written)
        patient = patients[index // 2]
        write_series(
            folder / f"patient{index // 2 + 1:02d}" / f"series{index % 2 + 1:02d}",
            patient,
            n=count,
            modality="CT",
            study_index=index % 2,
            rows=SIZE,
            columns=SIZE,
            seed=index,
        )
        written += count
    marker.write_text(f"{GENERATOR_VERSION} {n}\n")
    print(f"generated {n} files in {time.perf_counter() - start:.0f} s: {folder}", flush=True)
    return folder


def input_files(folder: Path) -> list[Path]:
    """The DICOM files of a corpus folder, in a stable order."""
    return sorted(folder.rglob("*.dcm"))


def copy_with_pydicom(src: str, out: str) -> None:
    """The ceiling: read every file of ``src`` with pydicom and write it to ``out``."""
    target = Path(out)
    target.mkdir(parents=True, exist_ok=True)
    for index, path in enumerate(input_files(Path(src))):
        ds = pydicom.dcmread(path)
        ds.save_as(target / f"{index:05d}.dcm", enforce_file_format=True)


def _tree_rss(proc: psutil.Process) -> int:
    total = 0
    try:
        members = [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    for member in members:
        try:
            total += member.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue  # a worker that exited between listing and sampling
    return total


def _phi_left(out: Path, strings: list[str]) -> tuple[int, int]:
    """(files still holding planted PHI, files checked) over a sample of the outputs."""
    outputs = sorted(p for p in out.rglob("*.dcm") if p.is_file())
    step = max(1, len(outputs) // PHI_SAMPLE)
    sample = outputs[::step][:PHI_SAMPLE]
    return sum(1 for p in sample if find_phi(p.read_bytes(), strings)), len(sample)


def measure(name: str, command: list[str], out: Path, strings: list[str]) -> Run:
    """Run ``command`` to completion; time it, sample its tree's RSS, check its outputs.

    A sample of the outputs is scanned for the planted PHI afterwards (outside the
    timing), so a fast job that leaves PHI behind shows it in the table.
    """
    shutil.rmtree(out, ignore_errors=True)
    # Each job writes about a gigabyte. Flush what the previous jobs left in the page
    # cache first (untimed): otherwise a job runs while the kernel writes back another
    # job's files, and its file creations wait on that (measured: 0.02 to 1.7 ms per
    # open, the same code, depending on what ran before).
    os.sync()
    start = time.perf_counter()
    child = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL)
    proc = psutil.Process(child.pid)
    peak = 0
    while child.poll() is None:
        peak = max(peak, _tree_rss(proc))
        time.sleep(SAMPLE_SECONDS)
    seconds = time.perf_counter() - start
    files = sum(1 for p in out.rglob("*") if p.is_file() and p.suffix != ".jsonl")
    phi_files, phi_sampled = _phi_left(out, strings)
    shutil.rmtree(out, ignore_errors=True)
    return Run(name, seconds, files, peak / 2**20, child.returncode, phi_files, phi_sampled)


def _dicomscrub(src: Path, work: Path, workers: int) -> list[str]:
    key = work / "bench.key"
    if not key.exists():
        key.write_text("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n")
    return [
        sys.executable,
        "-m",
        "dicomscrub.cli.main",
        "deidentify",
        str(src),
        "--out",
        str(work / f"out-{workers}w"),
        "--report",
        str(work / f"out-{workers}w" / "report.jsonl"),
        "--workers",
        str(workers),
        "--key-file",
        str(key),
        "-q",
    ]


def _dicognito(src: Path, out: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "dicognito",
        str(src),
        "--output-directory",
        str(out),
        "--quiet",
        "--seed",
        "1",
        "--assume-burned-in-annotation",
        "never",
    ]


def _jobs(src: Path, work: Path) -> list[tuple[str, list[str], Path]]:
    """(name, command, output folder) of every job that can run here."""
    pydicom_out = work / "out-pydicom"
    jobs = [
        (
            "pydicom read+write",
            [
                sys.executable,
                "-c",
                "import sys; from benchmarks.bench_header import copy_with_pydicom; "
                "copy_with_pydicom(sys.argv[1], sys.argv[2])",
                str(src),
                str(pydicom_out),
            ],
            pydicom_out,
        )
    ]
    if importlib.util.find_spec("dicomscrub.cli.main") is not None:
        for workers in (1, 2):
            out = work / f"out-{workers}w"
            jobs.append((f"dicomscrub {workers}w", _dicomscrub(src, work, workers), out))
    else:
        print("dicomscrub.cli.main is not importable: (b) and (c) not measured", flush=True)
    if importlib.util.find_spec("dicognito") is not None:
        out = work / "out-dicognito"
        jobs.append(("dicognito", _dicognito(src, out), out))
    else:
        print("dicognito is not installed (pip install dicognito): (d) not measured", flush=True)
    return jobs


def run_all(n: int, repeats: int) -> list[Run]:
    """Generate or reuse the corpus and measure every job on it, best of ``repeats``.

    The jobs take turns (a b c d a b c d ...) so that a burst of load from elsewhere on
    the machine hits them alike; each job keeps its fastest run and its highest peak RSS.
    """
    src = ensure_corpus(n)
    strings = [s for p in corpus_patients(n) for s in planted_phi(p)]
    work = DATA / "work"
    work.mkdir(parents=True, exist_ok=True)
    jobs = _jobs(src, work)
    best: dict[str, Run] = {}
    for _ in range(repeats):
        for name, command, out in jobs:
            run = measure(name, command, out, strings)
            previous = best.get(name)
            kept = run if previous is None or run.seconds < previous.seconds else previous
            peak = max(run.peak_rss_mb, previous.peak_rss_mb if previous else 0.0)
            best[name] = replace(kept, peak_rss_mb=peak)
    return [best[name] for name, _, _ in jobs]


def _ratio(runs: dict[str, Run], top: str, bottom: str) -> float | None:
    if top not in runs or bottom not in runs:
        return None
    return runs[top].files_per_second / runs[bottom].files_per_second


def report(n: int, runs: list[Run]) -> dict[str, object]:
    """Print the table and the target checks; return them as JSON-ready data."""
    print(
        f"\nheader benchmark: {n} CT files, {SIZE}x{SIZE} int16, tag-only, {os.cpu_count()} cores"
    )
    print(
        f"{'job':<22}{'seconds':>9}{'files':>7}{'files/s':>10}{'peak RSS MB':>13}{'exit':>6}"
        f"{'PHI left':>10}"
    )
    for run in runs:
        print(
            f"{run.name:<22}{run.seconds:>9.1f}{run.files:>7}{run.files_per_second:>10.1f}"
            f"{run.peak_rss_mb:>13.0f}{run.exit_code:>6}"
            f"{f'{run.phi_files}/{run.phi_sampled}':>10}"
        )
    by_name = {r.name: r for r in runs}
    checks: dict[str, tuple[float | None, str, Callable[[float], bool]]] = {
        "dicomscrub-1w / pydicom": (
            _ratio(by_name, "dicomscrub 1w", "pydicom read+write"),
            f">= {TARGET_1W_VS_PYDICOM}",
            lambda v: v >= TARGET_1W_VS_PYDICOM,
        ),
        "dicomscrub-2w / dicognito": (
            _ratio(by_name, "dicomscrub 2w", "dicognito"),
            f">= {TARGET_2W_VS_DICOGNITO}",
            lambda v: v >= TARGET_2W_VS_DICOGNITO,
        ),
        "peak RSS dicomscrub 2w (MB)": (
            by_name["dicomscrub 2w"].peak_rss_mb if "dicomscrub 2w" in by_name else None,
            f"< {TARGET_PEAK_RSS_MB:.0f}",
            lambda v: v < TARGET_PEAK_RSS_MB,
        ),
    }
    print()
    results: dict[str, object] = {"files": n, "runs": [asdict(r) for r in runs]}
    for label, (value, target, ok) in checks.items():
        if value is None:
            print(f"{label:<30} {'n/a':>8}  target {target}")
            continue
        verdict = "met" if ok(value) else "MISSED"
        print(f"{label:<30} {value:>8.2f}  target {target}: {verdict}")
        results[label] = {"value": round(value, 3), "target": target, "met": ok(value)}
    incomplete = [r.name for r in runs if r.files != n or r.exit_code != 0]
    if incomplete:
        print(f"WARNING: incomplete runs (not every file written, or exit != 0): {incomplete}")
    results["incomplete"] = incomplete
    return results


def main(quick: bool = False) -> None:
    """Run the header benchmark (200 files with ``quick``, else 2,000)."""
    n, repeats = (200, 1) if quick else (2000, REPEATS)
    results = report(n, run_all(n, repeats))
    out = DATA / f"results-{n}.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"results: {out}", flush=True)


if __name__ == "__main__":
    main(quick="--quick" in sys.argv[1:])
