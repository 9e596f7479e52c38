"""Local paths: atomic writes, naming, inputs, access checks, DICOM sniffing."""

from __future__ import annotations

import json
from pathlib import Path

import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_dataset

from dicomscrub.errors import ConfigError, StorageError
from dicomscrub.storage import (
    InputRef,
    check_access,
    delete,
    exists,
    is_dicom_candidate,
    iter_inputs,
    open_read,
    output_url,
    read_bytes,
    same_location,
    write_atomic,
)

T = "deid_{timestamp}_{name}"


def test_write_atomic_leaves_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "out.dcm"
    write_atomic(str(target), b"data")
    write_atomic(f"file://{target}", b"newer")
    assert read_bytes(str(target)) == b"newer"
    assert [p.name for p in target.parent.iterdir()] == ["out.dcm"]
    assert exists(str(target)) and not exists(str(tmp_path / "none"))


def test_write_atomic_writes_pieces_in_order(tmp_path: Path) -> None:
    target = tmp_path / "out.dcm"
    write_atomic(str(target), [b"DICM", b"", b"header", b"pixels"])
    assert target.read_bytes() == b"DICMheaderpixels"


def test_delete_removes_a_file_and_ignores_a_missing_one(tmp_path: Path) -> None:
    target = tmp_path / "out.dcm"
    write_atomic(str(target), b"data")
    delete(str(target))
    assert not target.exists()
    delete(str(target))  # already gone: not an error
    (tmp_path / "folder").mkdir()
    with pytest.raises(StorageError):
        delete(str(tmp_path / "folder"))


def test_write_into_a_file_path_fails_cleanly(tmp_path: Path) -> None:
    (tmp_path / "file").write_bytes(b"x")
    with pytest.raises(StorageError) as info:
        write_atomic(str(tmp_path / "file" / "out.dcm"), b"data")
    assert info.value.retryable is False


def test_open_read_and_missing(tmp_path: Path) -> None:
    (tmp_path / "x").write_bytes(b"0123456789")
    with open_read(str(tmp_path / "x")) as fh:
        fh.seek(5)
        assert fh.read() == b"56789"
    with pytest.raises(StorageError, match="cannot open"):
        open_read(str(tmp_path / "missing")).__enter__()


def test_same_location(tmp_path: Path) -> None:
    (tmp_path / "x").write_bytes(b"1")
    assert same_location(str(tmp_path / "x"), f"file://{tmp_path}/sub/../x")
    assert not same_location(str(tmp_path / "x"), str(tmp_path / "y"))
    assert not same_location(str(tmp_path / "x"), "s3://bucket/x")
    assert same_location("s3://b/k.dcm", "https://b.s3.us-east-1.amazonaws.com/k.dcm")
    assert same_location("az://c/k", "https://acct.blob.core.windows.net/c/k")
    assert not same_location("s3://b/k.dcm", "gs://b/k.dcm")


def test_same_location_sees_through_links_and_missing_folders(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    (source / "a.dcm").write_bytes(b"1")
    (tmp_path / "alias").symlink_to(source)
    a = str(source / "a.dcm")
    # Through a symlinked folder, and through ".." after a folder that does not exist yet
    # (writing there would create "new" and land on the input).
    assert same_location(str(tmp_path / "alias" / "a.dcm"), a)
    assert same_location(str(source / "new" / ".." / "a.dcm"), a)
    assert same_location(str(source / "a.dcm"), str(tmp_path / "src" / "x" / ".." / "a.dcm"))
    # A missing file in an existing or a missing folder is a new file.
    assert not same_location(str(source / "b.dcm"), a)
    assert not same_location(str(tmp_path / "out" / "deep" / "a.dcm"), a)
    # A symlink named like the output that points at the input is the input.
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "link.dcm").symlink_to(source / "a.dcm")
    assert same_location(str(tmp_path / "out" / "link.dcm"), a)


@pytest.mark.parametrize(
    ("ref", "out", "expected"),
    [
        (InputRef("s3://b/raw/x.dcm", "x.dcm"), None, "s3://b/raw/deid_9_x.dcm"),
        (InputRef("s3://b/raw/p/x.dcm", "p/x.dcm"), "s3://c/clean/", "s3://c/clean/p/deid_9_x.dcm"),
        (InputRef("gs://b/x.dcm", "x.dcm"), "/local/out", "/local/out/deid_9_x.dcm"),
        (
            InputRef("https://h.example/a/x.dcm?sig=1", "x.dcm"),
            None,
            "https://h.example/a/deid_9_x.dcm",
        ),
        (InputRef("/data/raw/x.dcm", "x.dcm"), None, "/data/raw/deid_9_x.dcm"),
        (InputRef("x.dcm", "x.dcm"), None, "deid_9_x.dcm"),
    ],
)
def test_output_url(ref: InputRef, out: str | None, expected: str) -> None:
    assert output_url(ref, out=out, template=T, timestamp=9) == expected


def test_local_folder_list_and_json_inputs(tmp_path: Path) -> None:
    for rel in ["d/b.dcm", "d/a.dcm", "d/s/c.dcm", "d/.hidden"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"x")
    folder = list(iter_inputs([str(tmp_path / "d")]))
    assert [r.relpath for r in folder] == ["a.dcm", "b.dcm", "s/c.dcm"]
    listing = tmp_path / "inputs.txt"
    listing.write_text(f"# two files\n{tmp_path}/d/a.dcm\n\n{tmp_path}/d/s/c.dcm\n")
    assert [r.relpath for r in iter_inputs([str(listing)])] == ["a.dcm", "c.dcm"]
    as_json = tmp_path / "inputs.json"
    as_json.write_text(json.dumps([f"{tmp_path}/d/b.dcm"]))
    assert [r.url for r in iter_inputs([str(as_json)])] == [f"{tmp_path}/d/b.dcm"]
    bad = tmp_path / "bad.json"
    bad.write_text('{"not": "a list"}')
    with pytest.raises(ConfigError, match="JSON list"):
        list(iter_inputs([str(bad)]))
    with pytest.raises(ConfigError, match="not found"):
        list(iter_inputs([str(tmp_path / "nothing")]))


def test_check_access_local(tmp_path: Path) -> None:
    (tmp_path / "in.dcm").write_bytes(b"x")
    check_access(str(tmp_path / "in.dcm"), write=False)
    check_access(str(tmp_path / "new" / "out"), write=True)
    with pytest.raises(ConfigError, match="not found"):
        check_access(str(tmp_path / "missing"), write=False)
    with pytest.raises(ConfigError, match="is a file"):
        check_access(str(tmp_path / "in.dcm"), write=True)
    with pytest.raises(ConfigError, match="no file matches"):
        check_access(str(tmp_path / "*.nothing"), write=False)
    with pytest.raises(ConfigError, match="unsupported URL scheme"):
        check_access("ftp://host/x", write=False)


def test_check_access_of_list_file_checks_its_buckets(tmp_path: Path) -> None:
    listing = tmp_path / "urls.txt"
    listing.write_text("ftp://host/a.dcm\n")
    with pytest.raises(ConfigError, match="unsupported URL scheme"):
        check_access(str(listing), write=False)


@pytest.mark.parametrize("name", ["CT_small.dcm", "MR_small.dcm", "rtplan.dcm", "JPEG2000.dcm"])
def test_part10_files_are_dicom_candidates(name: str) -> None:
    path = get_testdata_file(name)
    assert path is not None
    assert is_dicom_candidate(Path(path).read_bytes()[:132])


@pytest.mark.parametrize("implicit", [True, False])
def test_bare_data_set_is_a_dicom_candidate(implicit: bool) -> None:
    path = get_testdata_file("CT_small.dcm")
    assert path is not None
    ds = pydicom.dcmread(path)
    # A data set without preamble or meta group, as some old modalities write them.
    fp = DicomBytesIO()
    fp.is_little_endian = True
    fp.is_implicit_VR = implicit
    write_dataset(fp, ds)
    raw = fp.getvalue()
    assert raw[128:132] != b"DICM"
    assert is_dicom_candidate(raw[:132])


@pytest.mark.parametrize("head", [b"%PDF-1.7\n" + b"\0" * 200, b"hello world", b"", b"\0" * 132])
def test_other_files_are_not_dicom_candidates(head: bytes) -> None:
    assert not is_dicom_candidate(head)
