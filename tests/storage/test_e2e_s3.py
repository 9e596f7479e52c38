"""``dicomscrub deidentify s3:// -> s3://`` end to end through the CLI, against moto."""

from __future__ import annotations

import io
import json
import threading
import time
from pathlib import Path

import pydicom
import pytest

from dicomscrub.cli.main import main
from dicomscrub.storage import iter_inputs, open_read, read_bytes, write_atomic
from dicomscrub.storage.integrations import Integration, save_integration
from dicomscrub.synthetic.corpus import make_corpus
from tests.storage.servers import (
    Server,
    count_objects,
    create_bucket,
    moto_server,
    moto_subprocess,
    s3_integration,
)

pytestmark = pytest.mark.slow


def _upload_corpus(tmp_path: Path, base: str, integration: Integration, files: int) -> int:
    """Write a synthetic corpus under ``base``; returns the number of files."""
    manifest = make_corpus(
        tmp_path / "corpus", patients=2, series_per_patient=2, files_per_series=files
    )
    count = 0
    for path in sorted(manifest.root.rglob("*.dcm")):
        rel = path.relative_to(manifest.root).as_posix()
        write_atomic(base + rel, path.read_bytes(), integration=integration)
        count += 1
    return count


def _reports(path: Path) -> dict[str, dict[str, object]]:
    lines = [json.loads(ln) for ln in path.read_text().splitlines() if ln.strip()]
    return {line["url"]: line for line in lines}


def _register(integration: Integration) -> str:
    save_integration(integration, replace=True)
    return integration.name


def test_deidentify_s3_to_s3_with_upload_dir(
    moto: Server, s3_bucket: str, tmp_path: Path, key_file: Path
) -> None:
    name = _register(moto.integration)
    n = _upload_corpus(tmp_path, f"s3://{s3_bucket}/raw/", moto.integration, files=3)
    report = tmp_path / "report.jsonl"
    argv = [
        "deidentify",
        f"s3://{s3_bucket}/raw/",
        "--out",
        f"s3://{s3_bucket}/clean/",
        "--integration",
        name,
        "--key-file",
        str(key_file),
        "--workers",
        "2",
        "--report",
        str(report),
        "--timestamp",
        "1700000000",
        "-q",
    ]
    assert main(argv) == 0
    reports = _reports(report)
    assert len(reports) == n
    assert {r["status"] for r in reports.values()} == {"saved"}
    outputs = list(iter_inputs([f"s3://{s3_bucket}/clean/"], integration=moto.integration))
    assert len(outputs) == n
    assert sorted(r["url_deid"] for r in reports.values()) == sorted(o.url for o in outputs)
    # Folders mirrored under --out, names per the reference API.
    first = sorted(o.relpath for o in outputs)[0]
    assert first.startswith("patient01/series01_CT/deid_1700000000_IM")
    for out in outputs[:3]:
        src_url = next(u for u, r in reports.items() if r["url_deid"] == out.url)
        with open_read(out.url, integration=moto.integration) as fh:
            scrubbed = pydicom.dcmread(fh)
        original = pydicom.dcmread(io.BytesIO(read_bytes(src_url, integration=moto.integration)))
        assert scrubbed.PatientName != original.PatientName
        assert scrubbed.SOPInstanceUID != original.SOPInstanceUID


def test_deidentify_beside_the_sources(
    moto: Server, s3_bucket: str, tmp_path: Path, key_file: Path
) -> None:
    name = _register(moto.integration)
    n = _upload_corpus(tmp_path, f"s3://{s3_bucket}/raw/", moto.integration, files=2)
    report = tmp_path / "report.jsonl"
    argv = [
        "deidentify",
        f"s3://{s3_bucket}/raw/",
        "--integration",
        name,
        "--key-file",
        str(key_file),
        "--workers",
        "1",
        "--report",
        str(report),
        "--timestamp",
        "42",
        "-q",
    ]
    assert main(argv) == 0
    for url, line in _reports(report).items():
        head, _, base = url.rpartition("/")
        assert line["url_deid"] == f"{head}/deid_42_{base}"
        assert read_bytes(str(line["url_deid"]), integration=moto.integration)[128:132] == b"DICM"
    assert count_objects(s3_bucket, "raw/") == 2 * n


def test_configuration_errors_exit_2_before_touching_anything(
    moto: Server, s3_bucket: str, tmp_path: Path, key_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    name = _register(moto.integration)
    write_atomic(f"s3://{s3_bucket}/raw/a.dcm", b"x", integration=moto.integration)
    base = ["--key-file", str(key_file), "--report", str(tmp_path / "r.jsonl"), "-q"]
    cases = {
        "unknown integration": [f"s3://{s3_bucket}/raw/", "--integration", "nope"],
        "missing bucket": ["s3://no-such-bucket-zz/raw/", "--integration", name],
        "missing output bucket": [
            f"s3://{s3_bucket}/raw/",
            "--out",
            "s3://no-such-bucket-zz/o/",
            "--integration",
            name,
        ],
        "unsupported scheme": ["ftp://host/raw/", "--integration", name],
    }
    for why, args in cases.items():
        assert main(["deidentify", *args, *base]) == 2, why
        assert "configuration error" in capsys.readouterr().err, why
    assert count_objects(s3_bucket, "") == 1
    assert not (tmp_path / "r.jsonl").exists()


def test_server_stopped_mid_job_then_resume_completes(
    tmp_path: Path, key_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DICOMSCRUB_STORAGE_ATTEMPTS", "3")
    with moto_server() as first:
        port = int(first.endpoint.rsplit(":", 1)[1])
        integration = s3_integration(first.endpoint, name="fragile")
        name = _register(integration)
        create_bucket(first, "fault-bucket")
        n = _upload_corpus(tmp_path, "s3://fault-bucket/raw/", integration, files=6)
        report = tmp_path / "report.jsonl"
        argv = [
            "deidentify",
            "s3://fault-bucket/raw/",
            "--out",
            "s3://fault-bucket/clean/",
            "--integration",
            name,
            "--key-file",
            str(key_file),
            "--workers",
            "1",
            "--report",
            str(report),
            "--timestamp",
            "5",
            "-q",
        ]

        def stop_after_some_outputs() -> None:
            deadline = time.monotonic() + 120
            while count_objects("fault-bucket", "clean/") < 4 and time.monotonic() < deadline:
                time.sleep(0.01)
            first.handle.stop()

        stopper = threading.Thread(target=stop_after_some_outputs)
        stopper.start()
        code = main(argv)
        stopper.join()
    assert code == 1
    reports = _reports(report)
    saved = {u for u, r in reports.items() if r["status"] == "saved"}
    failed = {u: r for u, r in reports.items() if r["status"] == "failed"}
    assert len(saved) >= 4 and failed
    assert all(r["error"]["code"] == "storage" for r in failed.values())
    assert count_objects("fault-bucket", "clean/") == len(saved)  # nothing partial, nothing extra

    with moto_server(port=port):
        assert main([*argv, "--resume"]) == 0
        final = _reports(report)
        assert {r["status"] for r in final.values()} == {"saved"}
        assert len(final) == n
        outputs = list(iter_inputs(["s3://fault-bucket/clean/"], integration=integration))
        assert len(outputs) == n  # every file saved exactly once
        for out in outputs:
            with open_read(out.url, integration=integration) as fh:
                pydicom.dcmread(fh)


def test_bad_credentials_exit_2(tmp_path: Path, key_file: Path) -> None:
    # moto enforces signatures and IAM only when told so at start-up: its own process.
    with moto_subprocess({"INITIAL_NO_AUTH_ACTION_COUNT": "0"}) as server:
        name = _register(s3_integration(server.endpoint, name="wrong-keys"))
        argv = [
            "deidentify", "s3://any-bucket/raw/", "--out", str(tmp_path / "out"),
            "--integration", name, "--key-file", str(key_file), "-q",
            "--report", str(tmp_path / "r.jsonl"),
        ]  # fmt: skip
        assert main(argv) == 2
    assert not (tmp_path / "out").exists()
