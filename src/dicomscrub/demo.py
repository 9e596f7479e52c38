"""The end-to-end demo: ``python -m dicomscrub.demo DIR``.

Writes a synthetic hospital export with PHI everywhere (``DIR/input``), de-identifies it
through the command-line entry point (``DIR/output``, ``DIR/report.jsonl``, keyed by
``DIR/demo.key``), then scans every output byte for the planted PHI and checks that the
text burned into the pixels was covered. Prints where everything is and what was found
(element paths, never values). Exit code 0 when the job succeeded and no PHI remains.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import secrets
import shutil
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import numpy as np
import numpy.typing as npt
import pydicom

from dicomscrub.synthetic.locate import locate_phi
from dicomscrub.synthetic.overlay import Box, burn_texts
from dicomscrub.synthetic.patients import CorpusManifest, make_corpus, make_dataset

__all__ = ["BurnedFile", "build_input", "main", "run_demo"]

#: Written in DIR by the demo; only a DIR holding it is cleared on a re-run.
MARKER = ".dicomscrub-demo"
BURNED_FILES = 3
BURNED_SIZE = 512


@dataclass(frozen=True)
class BurnedFile:
    """An input file with text burned into its pixels, and where that text is."""

    path: Path
    boxes: tuple[Box, ...]
    clean: npt.NDArray[np.generic]  # the pixels before burning: ink is what differs


def _prepare(root: Path) -> None:
    """Create ``root``, clearing a previous demo run but nothing else."""
    owned = ("input", "output", "report.jsonl")
    if any((root / name).exists() for name in owned):
        if not (root / MARKER).exists():
            raise SystemExit(
                f"{root} holds input/, output/ or report.jsonl not written by the demo; "
                "choose an empty folder"
            )
        for name in owned:
            target = root / name
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
    root.mkdir(parents=True, exist_ok=True)
    (root / MARKER).write_text("written by python -m dicomscrub.demo\n", encoding="utf-8")


def ensure_key(path: Path) -> None:
    """Write a new 32-byte hex key to ``path`` unless it exists (mode 0600)."""
    if path.exists():
        return
    path.write_text(secrets.token_hex(32) + "\n", encoding="utf-8")
    path.chmod(0o600)


def build_input(folder: Path, *, seed: int = 0) -> tuple[CorpusManifest, list[BurnedFile]]:
    """Write the demo corpus: 3 patients, 6 CT/MR series of 8, plus 3 burned-text CTs.

    The burned files form one more CT series of the first patient's first study, at
    512x512 so that the text is legible, carrying name, ID and birth date in the pixels.
    """
    manifest = make_corpus(folder, patients=3, series_per_patient=2, files_per_series=8, seed=seed)
    first = manifest.series[0]
    patient = manifest.patients[first.patient_index]
    series_dir = folder / "patient01" / "series03_CT"
    series_dir.mkdir(parents=True, exist_ok=True)
    texts = [
        patient.display_name.upper(),
        f"ID {patient.patient_id}",
        f"DOB {patient.birth_date}",
        patient.institution,
    ]
    burned: list[BurnedFile] = []
    for number in range(1, BURNED_FILES + 1):
        ds = make_dataset(
            patient,
            study_uid=first.study_uid,
            series_uid=f"{first.series_uid}.3",
            instance_number=number,
            rows=BURNED_SIZE,
            columns=BURNED_SIZE,
            seed=seed,
        )
        ds.SeriesNumber = 4
        clean = ds.pixel_array.copy()
        boxes = burn_texts(ds, texts, seed + number)
        path = series_dir / f"IM{number:04d}.dcm"
        ds.save_as(path, enforce_file_format=True)
        burned.append(BurnedFile(path, tuple(boxes), clean))
    return manifest, burned


def _run_cli(root: Path) -> int:
    cli = importlib.import_module("dicomscrub.cli.main")
    argv = [
        "deidentify",
        str(root / "input"),
        "--out",
        str(root / "output"),
        "--report",
        str(root / "report.jsonl"),
        "--key-file",
        str(root / "demo.key"),
        "--pixels",
        "all-text",
        "--condition",
        "Modality in CT,MR",
    ]
    try:
        code = cli.main(argv)
    except SystemExit as exc:
        code = exc.code
    return code if isinstance(code, int) else (0 if code is None else 1)


def _read_report(path: Path) -> list[dict[str, object]]:
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _ink_covered(burned: BurnedFile, output: Path) -> tuple[int, int]:
    """(boxes whose ink no longer shows, boxes) for one burned input and its output."""
    after = pydicom.dcmread(output).pixel_array
    before = pydicom.dcmread(burned.path).pixel_array
    covered = 0
    for x0, y0, x1, y1 in burned.boxes:
        ink = before[y0:y1, x0:x1] != burned.clean[y0:y1, x0:x1]
        if not ink.any():
            continue
        still = after[y0:y1, x0:x1][ink] == before[y0:y1, x0:x1][ink]
        covered += int(still.mean() < 0.05)
    return covered, len(burned.boxes)


def run_demo(root: Path, *, seed: int = 0, out: TextIO | None = None) -> int:
    """Run the whole demo under ``root`` and return the exit code (see module doc)."""
    stream = out or sys.stdout

    def write(line: str) -> None:
        print(line, file=stream, flush=True)

    _prepare(root)
    ensure_key(root / "demo.key")
    manifest, burned = build_input(root / "input", seed=seed)
    inputs = sorted(p for p in (root / "input").rglob("*") if p.is_file())
    write(
        f"input:   {root / 'input'}  ({len(inputs)} files, {len(manifest.patients)} patients, "
        f"{len(manifest.series) + 1} series, CT and MR, {len(burned)} with burned-in text)"
    )
    if importlib.util.find_spec("dicomscrub.cli.main") is None:
        write("dicomscrub.cli.main is not installed: cannot run the de-identification job")
        return 2
    code = _run_cli(root)
    reports = _read_report(root / "report.jsonl")
    outputs = sorted(p for p in (root / "output").glob("**/*") if p.is_file())
    statuses = Counter(str(r.get("status")) for r in reports)
    write(f"output:  {root / 'output'}  ({len(outputs)} files)")
    write(
        f"report:  {root / 'report.jsonl'}  ({len(reports)} entries: "
        + ", ".join(f"{n} {s}" for s, n in sorted(statuses.items()))
        + ")"
    )
    write(f"key:     {root / 'demo.key'}")
    write(f"dicomscrub exit code: {code}")
    strings = manifest.phi_strings()
    residual = {p: locate_phi(p.read_bytes(), strings) for p in outputs}
    residual = {p: places for p, places in residual.items() if places}
    write(f"residual planted PHI found: {sum(len(v) for v in residual.values())}")
    for path, places in residual.items():
        write(f"  {path.relative_to(root)}: {', '.join(places)}")
    by_url = {str(r.get("url")): r.get("url_deid") for r in reports}
    covered = total = 0
    for item in burned:
        target = by_url.get(str(item.path))
        if isinstance(target, str) and Path(target).exists():
            done, boxes = _ink_covered(item, Path(target))
            covered, total = covered + done, total + boxes
        else:
            total += len(item.boxes)
    write(f"burned-in text boxes covered: {covered} of {total}")
    ok = code == 0 and not residual and len(outputs) == len(inputs) and covered == total
    return 0 if ok else 1


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point: ``python -m dicomscrub.demo DIR``."""
    parser = argparse.ArgumentParser(
        prog="python -m dicomscrub.demo", description=__doc__.splitlines()[0]
    )
    parser.add_argument("dir", type=Path, help="folder for input/, output/, report.jsonl, demo.key")
    parser.add_argument("--seed", type=int, default=0, help="seed of the synthetic patients")
    args = parser.parse_args(argv)
    return run_demo(args.dir, seed=args.seed)


if __name__ == "__main__":
    sys.exit(main())
