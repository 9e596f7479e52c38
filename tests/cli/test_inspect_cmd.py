"""``dicomscrub inspect FILE``: per attribute path, keyword, action, changed; never a value."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydicom.data import get_testdata_file

from dicomscrub.cli.main import main
from tests.factories import find_phi, planted_phi, write_phi_file


def test_table_names_attributes_and_never_values(
    tmp_path: Path, key_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, patient = write_phi_file(tmp_path, rows=32, columns=32)
    before = path.read_bytes()
    assert main(["inspect", str(path), "--key-file", str(key_file)]) == 0
    captured = capsys.readouterr()
    assert find_phi((captured.out + captured.err).encode(), planted_phi(patient)) == []
    rows = captured.out.splitlines()
    assert rows[0].split() == ["path", "keyword", "action", "changed"]
    by_keyword = {row.split()[1]: row.split() for row in rows[1:]}
    assert by_keyword["PatientName"][-1] == "yes"
    assert by_keyword["Modality"][-1] == "no"
    assert all(row.split()[-1] in ("yes", "no") for row in rows[1:])
    assert "changed or removed" in captured.err
    assert path.read_bytes() == before
    assert list(tmp_path.iterdir()) == [path, key_file] or set(tmp_path.iterdir()) == {
        path,
        key_file,
    }


def test_json_lists_actions_with_nested_paths(
    tmp_path: Path, key_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, patient = write_phi_file(tmp_path, rows=32, columns=32)
    assert main(["inspect", str(path), "--json", "--key-file", str(key_file)]) == 0
    out = capsys.readouterr().out
    assert find_phi(out.encode(), planted_phi(patient)) == []
    data = json.loads(out)
    actions = data["actions"]
    assert {"path", "tag", "keyword", "action", "changed"} == set(actions[0])
    assert any(">" in a["path"] or "[" in a["path"] for a in actions), "sequence items listed"
    assert data["pixel_regions"] == []


def test_bundled_file(key_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect", get_testdata_file("CT_small.dcm"), "--key-file", str(key_file)]) == 0
    assert "PatientName" in capsys.readouterr().out


def test_missing_file_is_2_and_not_dicom_is_1(tmp_path: Path, key_file: Path) -> None:
    assert main(["inspect", str(tmp_path / "absent.dcm"), "--key-file", str(key_file)]) == 2
    junk = tmp_path / "junk.dcm"
    junk.write_bytes(b"hello" * 40)
    assert main(["inspect", str(junk), "--key-file", str(key_file)]) == 1


def test_unknown_integration_is_2(key_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["inspect", "s3://bucket/one.dcm", "--integration", "nowhere", "--key-file"]
    assert main([*argv, str(key_file)]) == 2
    assert "nowhere" in capsys.readouterr().err
