"""Long-poll mechanics, with jobs ended through the store (no worker runs them)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from dicomscrub.service.app import create_app
from dicomscrub.service.auth import create_key
from dicomscrub.service.context import ServiceContext
from dicomscrub.service.job_store import JobState, finish_job
from dicomscrub.service.settings import ServiceSettings
from tests.service.servers import TEST_KEY, auth


@dataclass
class InThreadServer:
    url: str
    context: ServiceContext
    key: str


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[InThreadServer]:
    monkeypatch.setenv("DICOMSCRUB_KEY", TEST_KEY)
    settings = ServiceSettings(data_dir=tmp_path, max_poll_seconds=3)
    app: FastAPI = create_app(settings, run_jobs=False)
    context: ServiceContext = app.state.context
    key = create_key(context.engine, "poller")[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not uv.started:
        assert time.monotonic() < deadline and thread.is_alive()
        time.sleep(0.02)
    port = uv.servers[0].sockets[0].getsockname()[1]
    yield InThreadServer(f"http://127.0.0.1:{port}", context, key)
    uv.should_exit = True
    thread.join(20)


def _submit(server: InThreadServer, tmp_path: Path) -> str:
    response = httpx.post(
        f"{server.url}/dicom-deidentification",
        json={"dicom_urls": [str(tmp_path / "a.dcm")]},
        headers=auth(server.key),
    )
    assert response.status_code == 201
    return str(response.json()["uuid"])


def _poll(server: InThreadServer, job_id: str, timeout: float, out: list[Any]) -> None:
    start = time.monotonic()
    response = httpx.get(
        f"{server.url}/dicom-deidentification/{job_id}",
        params={"timeout_seconds": timeout},
        headers=auth(server.key),
        timeout=timeout + 10,
    )
    out.append((response.json(), time.monotonic() - start))


def test_poll_answers_when_the_job_ends_not_at_its_timeout(
    server: InThreadServer, tmp_path: Path
) -> None:
    job_id = _submit(server, tmp_path)
    results: list[Any] = []
    pollers = [threading.Thread(target=_poll, args=(server, job_id, 60, results)) for _ in range(5)]
    for p in pollers:
        p.start()
    time.sleep(0.5)
    finish_job(
        server.context.engine,
        job_id,
        state=JobState.DONE,
        summary={"total": 1, "saved": 1},
        urls=["/out/deid_1_a.dcm"],
    )
    server.context.events.notify(job_id)
    for p in pollers:
        p.join(30)
    assert len(results) == 5
    for body, elapsed in results:
        assert body["status"] == "DONE"
        assert body["urls"] == ["/out/deid_1_a.dcm"]
        # Far below the 3 s cap and the 5 s re-check: the notification woke it.
        assert elapsed < 2.5


def test_poll_of_a_pending_job_answers_pending_after_the_capped_timeout(
    server: InThreadServer, tmp_path: Path
) -> None:
    job_id = _submit(server, tmp_path)
    results: list[Any] = []
    _poll(server, job_id, 1000, results)  # asks 1000 s; the server caps at 3 s
    body, elapsed = results[0]
    assert body["status"] == "PENDING"
    assert body["state"] == "pending"
    assert body["urls"] == []
    assert 3.0 <= elapsed < 10


def test_cancelling_a_pending_job_wakes_its_pollers(server: InThreadServer, tmp_path: Path) -> None:
    job_id = _submit(server, tmp_path)
    results: list[Any] = []
    poller = threading.Thread(target=_poll, args=(server, job_id, 60, results))
    poller.start()
    time.sleep(0.3)
    response = httpx.delete(
        f"{server.url}/dicom-deidentification/{job_id}", headers=auth(server.key)
    )
    assert response.json()["state"] == "cancelled"
    poller.join(30)
    body, elapsed = results[0]
    assert body["status"] == "ERROR" and body["state"] == "cancelled"
    assert elapsed < 2.5


def test_a_notify_for_one_job_does_not_wake_another(server: InThreadServer, tmp_path: Path) -> None:
    waiting = _submit(server, tmp_path)
    other = _submit(server, tmp_path)
    results: list[Any] = []
    poller = threading.Thread(target=_poll, args=(server, waiting, 2, results))
    poller.start()
    time.sleep(0.3)
    finish_job(server.context.engine, other, state=JobState.DONE)
    server.context.events.notify(other)
    poller.join(30)
    body, elapsed = results[0]
    assert body["status"] == "PENDING"
    assert elapsed >= 2.0
