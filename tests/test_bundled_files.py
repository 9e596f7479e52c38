"""Every example file bundled with pydicom goes through the engine, and independent
tools (dcmtk's dcmdump, dicom3tools' dciodvfy) judge the outputs."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import warnings
from pathlib import Path

import pydicom
import pytest
from pydicom.data import get_testdata_files

from dicomscrub.errors import FILE_ERROR_CODES, FileError
from dicomscrub.pipeline import scrub_bytes
from dicomscrub.profile.options import Option
from dicomscrub.profile.policy import Policy

KEY = b"bundled-files-test-key-0123456789"
FILES = sorted(p for p in (Path(f) for f in get_testdata_files("**/*")) if p.is_file())

# Inputs that are not DICOM data sets at all, or that we refuse on purpose. Every other
# bundled file must come out de-identified.
EXPECTED_FAILURES = {
    "not-dicom",  # README, JSON, ICC profile, gzip, dcmdump text dumps, no_meta.dcm
    "unsupported-sop-class",  # DICOMDIR files (byte offsets of records)
    "missing-sop-uid",  # test fragments without SOPInstanceUID
    "missing-sop-class",  # test fragments without SOPClassUID in data set or meta
    "truncated",  # MR_truncated.dcm
}


def _id(path: Path) -> str:
    return path.parent.name + "/" + path.name if path.parent.name != "test_files" else path.name


def _scrub(path: Path, options: frozenset[Option] = frozenset()) -> bytes | None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            out, _ = scrub_bytes(path.read_bytes(), Policy(key=KEY, options=options))
        except FileError as exc:
            assert exc.code in EXPECTED_FAILURES, (path.name, exc.code, exc.message)
            assert exc.code in FILE_ERROR_CODES
            return None
    return out


def test_the_corpus_is_there() -> None:
    assert len(FILES) > 100


@pytest.mark.parametrize("path", FILES, ids=_id)
def test_every_bundled_file_is_scrubbed_or_refused_with_a_code(path: Path) -> None:
    out = _scrub(path)
    if out is None:
        return
    ds = pydicom.dcmread(io.BytesIO(out))
    assert ds.PatientIdentityRemoved == "YES"
    assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
    assert "SourceApplicationEntityTitle" not in ds.file_meta
    for elem in ds.iterall():
        assert not elem.tag.is_private or elem.tag.element < 0x10, elem.tag


def test_most_bundled_files_come_out() -> None:
    outputs = [p for p in FILES if _scrub(p) is not None]
    assert len(outputs) >= 140


needs_dcmtk = pytest.mark.skipif(shutil.which("dcmdump") is None, reason="dcmtk not installed")
needs_dciodvfy = pytest.mark.skipif(
    shutil.which("dciodvfy") is None, reason="dicom3tools not installed"
)


@needs_dcmtk
@pytest.mark.parametrize("path", FILES, ids=_id)
def test_dcmdump_reads_every_output(path: Path, tmp_path: Path) -> None:
    out = _scrub(path, frozenset({Option.CLEAN_DESCRIPTORS, Option.RETAIN_UIDS}))
    if out is None:
        return
    target = tmp_path / "out.dcm"
    target.write_bytes(out)
    proc = subprocess.run(
        ["dcmdump", "-q", str(target)], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "E:" not in proc.stderr, proc.stderr[-2000:]


_NORMALISE = (
    (re.compile(r"= <[^>]*>"), "= <>"),
    (re.compile(r"\[[0-9]+\]"), "[]"),
    (re.compile(r"(UID|Uid)\s+\S+"), r"\1 <uid>"),
    (re.compile(r"[0-9]+(\.[0-9]+)+"), "<uid>"),
)


def _dciodvfy_errors(path: Path) -> set[str]:
    proc = subprocess.run(["dciodvfy", str(path)], capture_output=True, text=True, check=False)
    errors = set()
    for line in (proc.stdout + proc.stderr).splitlines():
        if line.startswith("Error"):
            for pattern, repl in _NORMALISE:
                line = pattern.sub(repl, line)
            errors.add(line)
    return errors


@needs_dciodvfy
@pytest.mark.parametrize("path", FILES, ids=_id)
def test_dciodvfy_finds_no_new_error(path: Path, tmp_path: Path) -> None:
    out = _scrub(path)
    if out is None:
        return
    before = _dciodvfy_errors(path)
    if any("read failed" in e for e in before):
        pytest.skip("dciodvfy cannot read the input itself, so there is no baseline")
    target = tmp_path / "out.dcm"
    target.write_bytes(out)
    new = _dciodvfy_errors(target) - before
    assert not new, sorted(new)
