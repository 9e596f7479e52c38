"""kill -9 the server mid-job, start it again: the job completes, each file written once."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import psutil
import pydicom
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from dicomscrub.service.db import JobFileRow, make_engine
from dicomscrub.synthetic.patients import make_patients, write_series
from tests.service.servers import auth, start_service

pytestmark = pytest.mark.slow


def _saved_before_kill(database_url: str, job_id: str) -> dict[str, str]:
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            rows = session.scalars(select(JobFileRow).where(JobFileRow.job_id == job_id)).all()
            return {r.url: r.report["url_deid"] for r in rows if r.status == "saved"}
    finally:
        engine.dispose()


def test_killed_server_resumes_job_and_writes_each_file_once(tmp_path: Path) -> None:
    inputs: list[str] = []
    for index, patient in enumerate(make_patients(4, seed=5)):
        paths = write_series(
            tmp_path / "in" / f"p{index}", patient, n=40, rows=192, columns=192, seed=index
        )
        # Unique names: outputs of file inputs all go straight into upload_dir.
        for path in paths:
            inputs.append(str(path.rename(path.with_name(f"p{index}_{path.name}"))))
    out = tmp_path / "out"
    server = start_service(tmp_path / "srv", job_processes=1)
    try:
        key = server.new_key("restart")
        job_id = httpx.post(
            f"{server.url}/dicom-deidentification",
            json={"dicom_urls": inputs, "upload_dir": str(out)},
            headers=auth(key),
        ).json()["uuid"]
        deadline = time.monotonic() + 120
        while True:
            state = httpx.get(
                f"{server.url}/dicom-deidentification/{job_id}", headers=auth(key)
            ).json()
            assert state["status"] == "PENDING", "the job ended before it could be killed"
            if state["processed"] >= 20:
                break
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert server.proc is not None
        children = psutil.Process(server.proc.pid).children(recursive=True)
        assert children, "jobs run in worker processes"
        server.kill()
        # The job processes die with the server: nothing writes behind the restart's back.
        _gone, alive = psutil.wait_procs(children, timeout=15)
        assert alive == []

        saved = _saved_before_kill(server.database_url, job_id)
        assert 0 < len(saved) < len(inputs)
        before = {url: Path(out_url).stat() for url, out_url in saved.items()}

        server.start()
        result = httpx.get(
            f"{server.url}/dicom-deidentification/{job_id}",
            params={"timeout_seconds": 60},
            headers=auth(key),
            timeout=90,
        ).json()
        assert result["status"] == "DONE", result
        assert len(result["urls"]) == len(inputs)
        assert len(set(result["urls"])) == len(inputs)

        # Files written before the kill were not written again (same inode, same mtime).
        for url, stat in before.items():
            now = Path(saved[url]).stat()
            assert (now.st_ino, now.st_mtime_ns) == (stat.st_ino, stat.st_mtime_ns)
        # Every input has exactly one complete output under its final name.
        finals = sorted(p for p in out.rglob("*.dcm") if not p.name.startswith("."))
        assert sorted(map(str, finals)) == sorted(result["urls"])
        for path in finals:
            pydicom.dcmread(path)
        reports = httpx.get(
            f"{server.url}/dicom-deidentification/{job_id}/report",
            params={"limit": 1000},
            headers=auth(key),
        ).json()
        assert reports["total"] == len(inputs)
        assert sorted(r["url"] for r in reports["reports"]) == sorted(inputs)
        assert {r["status"] for r in reports["reports"]} == {"saved"}
    finally:
        server.stop()
