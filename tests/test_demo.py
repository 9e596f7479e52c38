"""The end-to-end demo: corpus, key, the real CLI job, and the residual-PHI scan."""

from __future__ import annotations

import importlib.util
import io
import json
from pathlib import Path

import numpy as np
import pydicom
import pytest

from dicomscrub import demo
from tests.factories import find_phi


def test_build_input_writes_the_promised_corpus(tmp_path: Path) -> None:
    manifest, burned = demo.build_input(tmp_path / "input")
    files = sorted(p for p in (tmp_path / "input").rglob("*.dcm"))
    assert len(files) >= 40
    assert len(manifest.patients) >= 3
    assert len(manifest.series) + 1 >= 4
    series = {pydicom.dcmread(p, stop_before_pixels=True).SeriesInstanceUID for p in files}
    assert len(series) == len(manifest.series) + 1
    modalities = {pydicom.dcmread(p, stop_before_pixels=True).Modality for p in files}
    assert modalities == {"CT", "MR"}
    assert len(burned) == demo.BURNED_FILES
    for item in burned:
        assert item.boxes, "every burned file carries text"
        pixels = pydicom.dcmread(item.path).pixel_array
        x0, y0, x1, y1 = item.boxes[0]
        assert (pixels[y0:y1, x0:x1] != item.clean[y0:y1, x0:x1]).any()
    assert find_phi(b"".join(p.read_bytes() for p in files), manifest.phi_strings()) == (
        manifest.phi_strings()
    )


def test_ensure_key_writes_32_hex_bytes_once(tmp_path: Path) -> None:
    key = tmp_path / "demo.key"
    demo.ensure_key(key)
    text = key.read_text().strip()
    assert len(bytes.fromhex(text)) == 32
    assert key.stat().st_mode & 0o777 == 0o600
    demo.ensure_key(key)
    assert key.read_text().strip() == text


def test_demo_refuses_a_folder_it_did_not_write(tmp_path: Path) -> None:
    (tmp_path / "input").mkdir()
    (tmp_path / "input" / "precious.dcm").write_bytes(b"x")
    with pytest.raises(SystemExit):
        demo.run_demo(tmp_path, out=io.StringIO())
    assert (tmp_path / "input" / "precious.dcm").read_bytes() == b"x"


def test_ink_check_tells_covered_from_untouched_text(tmp_path: Path) -> None:
    _, burned = demo.build_input(tmp_path / "input")
    item = burned[0]
    assert demo._ink_covered(item, item.path) == (0, len(item.boxes))
    ds = pydicom.dcmread(item.path)
    pixels = ds.pixel_array.copy()
    for x0, y0, x1, y1 in item.boxes:
        pixels[y0:y1, x0:x1] = np.iinfo(pixels.dtype).min
    ds.PixelData = pixels.tobytes()
    redacted = tmp_path / "redacted.dcm"
    ds.save_as(redacted)
    assert demo._ink_covered(item, redacted) == (len(item.boxes), len(item.boxes))


@pytest.mark.slow
@pytest.mark.skipif(
    importlib.util.find_spec("dicomscrub.cli.main") is None,
    reason="dicomscrub.cli.main (the CLI) is not importable",
)
def test_demo_runs_the_job_and_finds_no_residual_phi(tmp_path: Path) -> None:
    out = io.StringIO()
    code = demo.run_demo(tmp_path, out=out)
    text = out.getvalue()
    assert code == 0, text
    assert "residual planted PHI found: 0" in text
    inputs = sorted((tmp_path / "input").rglob("*.dcm"))
    outputs = sorted((tmp_path / "output").rglob("*.dcm"))
    assert len(outputs) == len(inputs) >= 40
    lines = (tmp_path / "report.jsonl").read_text().splitlines()
    reports = [json.loads(line) for line in lines if line.strip()]
    assert len(reports) == len(inputs)
    assert all(r["status"] == "saved" for r in reports)
    assert "burned-in text boxes covered: " in text


def test_a_rerun_clears_the_previous_demo_only(tmp_path: Path) -> None:
    (tmp_path / demo.MARKER).write_text("x")
    (tmp_path / "output").mkdir()
    (tmp_path / "output" / "old.dcm").write_bytes(b"old")
    (tmp_path / "report.jsonl").write_text("{}\n")
    (tmp_path / "mine.txt").write_text("keep")
    demo._prepare(tmp_path)
    assert not (tmp_path / "output").exists()
    assert not (tmp_path / "report.jsonl").exists()
    assert (tmp_path / "mine.txt").read_text() == "keep"
