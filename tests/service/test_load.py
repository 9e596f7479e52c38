"""20 clients long-polling while 50 jobs of mixed size run: every job ends right, nothing hangs."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from dicomscrub.synthetic.patients import make_patients, write_series
from tests.service.servers import auth, start_service

pytestmark = pytest.mark.slow

CLIENTS = 20
JOBS = 50
POLL_SECONDS = 3.0
#: What a long-poll may take beyond its timeout (scheduling, a busy machine); far below a hang.
SLACK_SECONDS = 5.0


@dataclass
class Job:
    index: int
    inputs: list[str]
    out: Path
    expect_done: bool
    good_inputs: int
    uuid: str = ""
    result: dict[str, object] = field(default_factory=dict)


def _jobs(tmp: Path) -> list[Job]:
    patient = make_patients(1, seed=3)[0]
    series = [str(p) for p in write_series(tmp / "series", patient, n=6, rows=64, columns=64)]
    bad = tmp / "bad.dcm"
    bad.write_bytes(b"not a DICOM file at all" * 8)
    jobs = []
    for index in range(JOBS):
        size = index % 6 + 1
        if index % 10 == 3:  # every input fails: ERROR
            inputs, good, done = [str(bad)], 0, False
        elif index % 10 == 7:  # one bad input among good ones: DONE with the good ones
            inputs, good, done = [*series[:size], str(bad)], size, True
        else:
            inputs, good, done = series[:size], size, True
        jobs.append(Job(index, inputs, tmp / "out" / f"job{index}", done, good))
    return jobs


def test_many_pollers_while_many_jobs_run(tmp_path: Path) -> None:
    server = start_service(tmp_path / "srv", job_processes=4)
    try:
        key = server.new_key("load")
        jobs = _jobs(tmp_path)
        slow_requests: list[float] = []
        errors: list[str] = []
        lock = threading.Lock()

        def client(number: int) -> None:
            mine = [job for job in jobs if job.index % CLIENTS == number]
            with httpx.Client(base_url=server.url, headers=auth(key), timeout=30) as http:
                for job in mine:
                    response = http.post(
                        "/dicom-deidentification",
                        json={"dicom_urls": job.inputs, "upload_dir": str(job.out)},
                    )
                    if response.status_code != 201:
                        with lock:
                            errors.append(response.text)
                        return
                    job.uuid = response.json()["uuid"]
                for job in mine:
                    deadline = time.monotonic() + 180
                    while time.monotonic() < deadline:
                        start = time.monotonic()
                        body = http.get(
                            f"/dicom-deidentification/{job.uuid}",
                            params={"timeout_seconds": POLL_SECONDS},
                        ).json()
                        took = time.monotonic() - start
                        if took > POLL_SECONDS + SLACK_SECONDS:
                            with lock:
                                slow_requests.append(took)
                        if body["status"] != "PENDING":
                            job.result = body
                            break

        threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(240)
        assert not any(t.is_alive() for t in threads)
        assert errors == []
        assert slow_requests == []
        for job in jobs:
            assert job.result, f"job {job.index} never ended"
            assert job.result["status"] == ("DONE" if job.expect_done else "ERROR"), job.result
            urls = list(job.result["urls"])  # type: ignore[call-overload]
            assert len(urls) == job.good_inputs
            written = sorted(str(p) for p in job.out.glob("*.dcm")) if job.out.exists() else []
            assert sorted(urls) == written
        listing = httpx.get(
            f"{server.url}/dicom-deidentification", params={"limit": 1000}, headers=auth(key)
        ).json()
        assert len(listing["jobs"]) == JOBS
    finally:
        server.stop()
