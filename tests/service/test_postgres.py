"""The service on PostgreSQL: migrations, the stores, a job through HTTP, concurrent claims.

Every test gets an empty database on one throwaway server (:mod:`tests.service.pg`); the
tests are skipped where the Debian package ``postgresql`` is not installed.
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pydicom
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from cryptography.fernet import Fernet
from sqlalchemy import func, inspect, select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from dicomscrub.errors import ConfigError
from dicomscrub.report.models import FileReport, FileStatus
from dicomscrub.service.auth import authenticate, create_key, list_keys, revoke_key
from dicomscrub.service.db import MIGRATIONS_DIR, Base, JobFileRow, JobRow, make_engine, migrate
from dicomscrub.service.integration_store import (
    add_integration,
    delete_integration,
    get_integration_info,
    list_integrations,
    open_integration,
)
from dicomscrub.service.job_store import (
    JobState,
    claim_job,
    create_job,
    finish_job,
    get_job,
    list_jobs,
    list_pending,
    record_report,
    report_page,
    request_cancel,
    requeue_interrupted,
    saved_urls,
)
from dicomscrub.service.vault import Vault
from dicomscrub.storage.integrations import Integration
from tests.service.pg import PostgresServiceProcess, pg_url, postgres, start_pg_service
from tests.service.servers import auth, copy_examples

# Fixtures of tests.service.pg, used by name.
__all__ = ["pg_url", "postgres"]

JOBS = "/dicom-deidentification"
TABLES = {"alembic_version", "api_keys", "integrations", "jobs", "job_files"}


@pytest.fixture
def engine(pg_url: str) -> Iterator[Engine]:
    """A migrated, empty database."""
    engine = make_engine(pg_url)
    migrate(engine)
    yield engine
    engine.dispose()


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def _head_revision() -> str:
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None
    return head


def _saved_report(url: str, out: str) -> FileReport:
    return FileReport(url=url, status=FileStatus.SAVED, url_deid=out, actions_applied=3)


# --- schema -------------------------------------------------------------------------


def test_migrations_create_the_schema_from_empty_and_are_idempotent(pg_url: str) -> None:
    engine = make_engine(pg_url)
    assert inspect(engine).get_table_names() == []
    migrate(engine)
    engine.dispose()
    # A restart: a new engine migrates the same database again and changes nothing.
    engine = make_engine(pg_url)
    migrate(engine)
    assert set(inspect(engine).get_table_names()) == TABLES
    with engine.connect() as connection:
        assert connection.scalars(text("SELECT version_num FROM alembic_version")).all() == [
            _head_revision()
        ]
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []
    engine.dispose()


def test_upgrading_a_first_schema_keeps_its_jobs_and_takes_times_after_2038(
    pg_url: str,
) -> None:
    engine = make_engine(pg_url)
    config = _alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
    old = create_job(engine, owner="alice", payload={"dicom_urls": ["/a"]}, timestamp=1_700_000_000)
    migrate(engine)
    kept = get_job(engine, old)
    assert kept is not None and kept.timestamp == 1_700_000_000
    columns = {c["name"]: c["type"] for c in inspect(engine).get_columns("jobs")}
    assert str(columns["timestamp"]) == "BIGINT"
    late = create_job(engine, owner="alice", payload={"dicom_urls": ["/b"]}, timestamp=2**31 + 1)
    job = get_job(engine, late)
    assert job is not None and job.timestamp == 2**31 + 1
    engine.dispose()


def test_concurrent_first_migrations_take_turns(pg_url: str) -> None:
    # Several servers (or `dicomscrub keys`) starting at once on an empty database.
    code = (
        "import sys\n"
        "from dicomscrub.service.db import make_engine, migrate\n"
        "migrate(make_engine(sys.argv[1]))\n"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", code, pg_url], stderr=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    errors = [proc.communicate(timeout=60)[1] for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0, 0, 0], errors
    engine = make_engine(pg_url)
    assert set(inspect(engine).get_table_names()) == TABLES
    engine.dispose()


# --- job store ----------------------------------------------------------------------


def test_jobs_round_trip_and_stay_with_their_owner(engine: Engine) -> None:
    payload = {
        "dicom_urls": ["/in/a.dcm", "/in/b.dcm"],
        "upload_dir": "/out",
        "save_conditions": [{"value": ["CT", "MR"], "condition_type": "IN", "dicom_tag": "x"}],
        "note": "Zürich – 東京",
    }
    first = create_job(engine, owner="alice", payload=payload, timestamp=1_700_000_000)
    second = create_job(engine, owner="alice", payload={"dicom_urls": ["/c"]}, timestamp=1)
    other = create_job(engine, owner="bob", payload={"dicom_urls": ["/d"]}, timestamp=2)

    job = get_job(engine, first, owner="alice")
    assert job is not None
    assert job.payload == payload
    assert (job.state, job.total, job.processed, job.attempts) == (JobState.PENDING, 2, 0, 0)
    assert job.created_at.utcoffset() == dt.timedelta(0)
    assert get_job(engine, first, owner="bob") is None
    assert get_job(engine, other, owner="alice") is None
    assert get_job(engine, "00000000-0000-0000-0000-000000000000") is None

    assert [j.id for j in list_jobs(engine, owner="alice", limit=10, offset=0)] == [
        second,
        first,
    ]
    assert [j.id for j in list_jobs(engine, owner="alice", limit=1, offset=1)] == [first]
    assert [j.id for j in list_jobs(engine, owner="bob", limit=10, offset=0)] == [other]
    assert list_jobs(engine, owner="carol", limit=10, offset=0) == []


def test_reports_are_recorded_once_per_input_and_paged(engine: Engine) -> None:
    job_id = create_job(
        engine, owner="alice", payload={"dicom_urls": ["/a", "/b", "/c"]}, timestamp=1
    )
    assert claim_job(engine, job_id)
    record_report(engine, job_id, FileReport(url="/a", status=FileStatus.FAILED))
    record_report(engine, job_id, _saved_report("/a", "/out/a.dcm"))  # a resumed run
    record_report(engine, job_id, _saved_report("/b", "/out/b.dcm"))
    record_report(engine, job_id, FileReport(url="/c", status=FileStatus.SKIPPED))

    job = get_job(engine, job_id)
    assert job is not None and job.processed == 3
    assert saved_urls(engine, job_id) == ["/out/a.dcm", "/out/b.dcm"]
    page, total = report_page(engine, job_id, limit=2, offset=0)
    assert total == 3
    assert [(r["url"], r["status"]) for r in page] == [("/a", "saved"), ("/b", "saved")]
    assert page[0]["actions_applied"] == 3
    rest, _total = report_page(engine, job_id, limit=2, offset=2)
    assert [r["url"] for r in rest] == ["/c"]

    finish_job(
        engine,
        job_id,
        state=JobState.DONE,
        summary={"total": 3, "saved": 2, "skipped": 1, "failed": 0},
        urls=["/out/a.dcm", "/out/b.dcm"],
    )
    done = get_job(engine, job_id)
    assert done is not None
    assert (done.state, done.urls, done.summary) == (
        JobState.DONE,
        ["/out/a.dcm", "/out/b.dcm"],
        {"total": 3, "saved": 2, "skipped": 1, "failed": 0},
    )
    assert done.finished_at is not None
    # Deleting a job takes its reports with it (ON DELETE CASCADE).
    with Session(engine) as session, session.begin():
        session.delete(session.get(JobRow, job_id))
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(JobFileRow)) == 0


def test_cancel_and_requeue_after_a_restart(engine: Engine) -> None:
    pending = create_job(engine, owner="alice", payload={"dicom_urls": ["/a"]}, timestamp=1)
    running = create_job(engine, owner="alice", payload={"dicom_urls": ["/b"]}, timestamp=1)
    interrupted = create_job(engine, owner="bob", payload={"dicom_urls": ["/c"]}, timestamp=1)
    assert claim_job(engine, running) and claim_job(engine, interrupted)
    assert not claim_job(engine, running)

    assert request_cancel(engine, pending) is JobState.CANCELLED
    assert request_cancel(engine, running) is JobState.RUNNING
    cancelled = get_job(engine, pending)
    asked = get_job(engine, running)
    assert cancelled is not None and cancelled.state is JobState.CANCELLED
    assert asked is not None and asked.cancel_requested
    with pytest.raises(KeyError):
        request_cancel(engine, "00000000-0000-0000-0000-000000000000")

    finish_job(engine, running, state=JobState.CANCELLED, error_message="cancelled")
    assert requeue_interrupted(engine) == [interrupted]
    assert list_pending(engine, 10) == [interrupted]
    assert claim_job(engine, interrupted)
    again = get_job(engine, interrupted)
    assert again is not None and again.attempts == 2


# --- integrations and API keys ------------------------------------------------------


def test_integrations_are_sealed_and_stay_with_their_owner(engine: Engine) -> None:
    vault = Vault(Fernet.generate_key())
    secret = "pg-secret-value-never-stored-in-clear-91c2"
    s3 = Integration(
        name="ignored",
        kind="s3",
        endpoint_url="http://127.0.0.1:9000",
        region="eu-west-1",
        credentials={"access_key_id": "AKIA-pg", "secret_access_key": secret},
    )
    info = add_integration(engine, vault, owner="alice", title="Research bucket", integration=s3)
    bobs = add_integration(
        engine,
        vault,
        owner="bob",
        title="Public",
        integration=Integration(name="x", kind="http", anonymous=True),
    )
    assert info.credential_names == ("access_key_id", "secret_access_key")
    assert [i.title for i in list_integrations(engine, vault, owner="alice")] == ["Research bucket"]
    assert [i.id for i in list_integrations(engine, vault, owner="bob")] == [bobs.id]
    assert get_integration_info(engine, vault, info.id, owner="bob") is None
    assert open_integration(engine, vault, info.id, owner="bob") is None

    opened = open_integration(engine, vault, info.id, owner="alice")
    assert opened is not None
    assert opened.credentials["secret_access_key"] == secret
    assert (opened.name, opened.region, opened.anonymous) == (info.id, "eu-west-1", False)
    with engine.connect() as connection:
        stored = connection.scalars(text("SELECT sealed_credentials::text FROM integrations"))
        assert all(secret not in (value or "") for value in stored)

    assert not delete_integration(engine, info.id, owner="bob")
    assert delete_integration(engine, info.id, owner="alice")
    assert get_integration_info(engine, vault, info.id, owner="alice") is None
    assert not delete_integration(engine, info.id, owner="alice")


def test_api_keys_create_authenticate_list_and_revoke(engine: Engine) -> None:
    alice_info, alice = create_key(engine, "alice")
    _bob_info, bob = create_key(engine, " bob ")
    assert authenticate(engine, alice) == "alice"
    assert authenticate(engine, bob) == "bob"
    assert authenticate(engine, alice + "x") is None
    assert authenticate(engine, "not-a-key") is None
    assert [(k.owner, k.revoked) for k in list_keys(engine)] == [
        ("alice", False),
        ("bob", False),
    ]
    with engine.connect() as connection:
        hashes = connection.scalars(text("SELECT key_hash FROM api_keys")).all()
    assert alice not in hashes and bob not in hashes

    assert revoke_key(engine, alice).id == alice_info.id  # by the whole key
    assert authenticate(engine, alice) is None
    assert authenticate(engine, bob) == "bob"
    assert [(k.owner, k.revoked) for k in list_keys(engine)] == [("alice", True), ("bob", False)]
    with pytest.raises(ConfigError):
        revoke_key(engine, "0123456789abcdef")
    with pytest.raises(ConfigError):
        create_key(engine, "x" * 201)


def test_keys_command_takes_the_database_url_flag(pg_url: str, tmp_path: Path) -> None:
    def keys(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "dicomscrub.cli.main",
                "keys",
                *args,
                "--database-url",
                pg_url,
                "--data-dir",
                str(tmp_path),
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )

    created = keys("create", "--name", "carol")
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    engine = make_engine(pg_url)
    try:
        assert authenticate(engine, key) == "carol"
        assert keys("revoke", key).returncode == 0
        assert authenticate(engine, key) is None
        assert "revoked" in keys("list").stdout
    finally:
        engine.dispose()
    assert not (tmp_path / "service.db").exists()  # nothing went to SQLite


# --- concurrent claims --------------------------------------------------------------


@pytest.mark.parametrize(
    ("first_claim_commits", "second_claim_wins"), [(True, False), (False, True)]
)
def test_a_claim_waits_for_a_competing_claim_of_the_same_job(
    engine: Engine, first_claim_commits: bool, second_claim_wins: bool
) -> None:
    job_id = create_job(engine, owner="alice", payload={"dicom_urls": ["/a"]}, timestamp=1)
    outcome: list[bool] = []
    with engine.connect() as first:
        transaction = first.begin()
        # The first dispatcher's claim, caught between its UPDATE and its COMMIT.
        claimed = first.execute(
            update(JobRow)
            .where(JobRow.id == job_id, JobRow.state == JobState.PENDING.value)
            .values(state=JobState.RUNNING.value, attempts=JobRow.attempts + 1)
        )
        assert claimed.rowcount == 1
        second = threading.Thread(target=lambda: outcome.append(claim_job(engine, job_id)))
        second.start()
        second.join(0.5)
        assert second.is_alive(), "the second claim must wait for the first one's row lock"
        if first_claim_commits:
            transaction.commit()
        else:
            transaction.rollback()
        second.join(10)
    assert outcome == [second_claim_wins]
    job = get_job(engine, job_id)
    assert job is not None and (job.state, job.attempts) == (JobState.RUNNING, 1)


def test_concurrent_dispatchers_claim_each_job_exactly_once(pg_url: str) -> None:
    engines = [make_engine(pg_url) for _ in range(8)]
    migrate(engines[0])
    job_ids = {
        create_job(engines[0], owner="alice", payload={"dicom_urls": [f"/{i}"]}, timestamp=i)
        for i in range(60)
    }
    claims: list[list[str]] = [[] for _ in engines]
    start = threading.Barrier(len(engines))

    def dispatcher(index: int) -> None:
        # The dispatcher's loop: list a few pending jobs, claim them one by one.
        start.wait()
        while pending := list_pending(engines[index], 4):
            claims[index].extend(job for job in pending if claim_job(engines[index], job))

    threads = [threading.Thread(target=dispatcher, args=(i,)) for i in range(len(engines))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    claimed = [job for mine in claims for job in mine]
    assert sorted(claimed) == sorted(job_ids)  # every job claimed, none twice
    assert sum(1 for mine in claims if mine) > 1  # the claims really competed
    with Session(engines[0]) as session:
        rows = session.execute(select(JobRow.state, JobRow.attempts)).all()
    assert {(state, attempts) for state, attempts in rows} == {("running", 1)}
    for engine in engines:
        engine.dispose()


# --- the HTTP service ---------------------------------------------------------------


def _wait(service: PostgresServiceProcess, key: str, job_id: str) -> dict[str, object]:
    response = httpx.get(
        f"{service.url}{JOBS}/{job_id}",
        params={"timeout_seconds": 30},
        headers=auth(key),
        timeout=40,
    )
    assert response.status_code == 200, response.text
    result: dict[str, object] = response.json()
    return result


def test_a_job_runs_through_the_http_api(pg_url: str, tmp_path: Path) -> None:
    service = start_pg_service(tmp_path / "srv", pg_url, job_processes=1)
    try:
        alice = service.new_key("alice")
        bob = service.new_key("bob")
        inputs = copy_examples(tmp_path / "in")
        out = tmp_path / "out"
        created = httpx.post(
            f"{service.url}{JOBS}",
            json={"dicomUrls": inputs, "uploadDir": str(out), "redactPixelsMode": "REDACT_NO_TEXT"},
            headers=auth(alice),
            timeout=10,
        )
        assert created.status_code == 201, created.text
        job_id = created.json()["uuid"]
        result = _wait(service, alice, job_id)
        assert result["status"] == "DONE", result
        assert result["processed"] == result["total"] == 2
        urls = result["urls"]
        assert isinstance(urls, list)
        assert sorted(urls) == sorted(str(p) for p in out.glob("*.dcm"))
        for url in urls:
            ds = pydicom.dcmread(url)
            assert str(ds.get("PatientName", "")) not in {
                "CompressedSamples^CT1",
                "CompressedSamples^MR1",
            }

        report = httpx.get(f"{service.url}{JOBS}/{job_id}/report", headers=auth(alice)).json()
        assert report["total"] == 2
        assert {r["url"] for r in report["reports"]} == set(inputs)
        assert {r["status"] for r in report["reports"]} == {"saved"}
        listed = httpx.get(f"{service.url}{JOBS}", headers=auth(alice)).json()
        assert [j["uuid"] for j in listed["jobs"]] == [job_id]

        # Another owner sees nothing of it; a revoked key is refused.
        assert httpx.get(f"{service.url}{JOBS}/{job_id}", headers=auth(bob)).status_code == 404
        assert httpx.get(f"{service.url}{JOBS}", headers=auth(bob)).json()["jobs"] == []
        service.revoke(bob)
        assert httpx.get(f"{service.url}{JOBS}", headers=auth(bob)).status_code == 401
    finally:
        service.stop()
    # The state is in PostgreSQL, not in a SQLite file in the data folder.
    assert not (service.data_dir / "service.db").exists()
    engine = make_engine(pg_url)
    try:
        with Session(engine) as session:
            row = session.get(JobRow, job_id)
            assert row is not None and (row.state, row.attempts) == ("done", 1)
    finally:
        engine.dispose()


@pytest.mark.slow
def test_two_servers_on_one_database_run_each_job_once(pg_url: str, tmp_path: Path) -> None:
    # Both start before any job exists: a starting server requeues every "running" job
    # (it assumes it owns the database), so a second server must not start mid-job.
    servers = [start_pg_service(tmp_path / f"srv{i}", pg_url, job_processes=2) for i in range(2)]
    try:
        key = servers[0].new_key("alice")
        inputs = copy_examples(tmp_path / "in")
        jobs = []
        for index in range(12):
            server = servers[index % 2]
            response = httpx.post(
                f"{server.url}{JOBS}",
                json={"dicom_urls": inputs, "upload_dir": str(tmp_path / "out" / str(index))},
                headers=auth(key),
                timeout=10,
            )
            assert response.status_code == 201, response.text
            jobs.append(response.json()["uuid"])
        for job_id in jobs:
            assert _wait(servers[1], key, job_id)["status"] == "DONE"
    finally:
        for server in servers:
            server.stop()
    for index in range(12):
        assert len(list((tmp_path / "out" / str(index)).glob("*.dcm"))) == 2
    engine = make_engine(pg_url)
    try:
        with Session(engine) as session:
            rows = session.execute(select(JobRow.state, JobRow.attempts)).all()
            reports = session.scalar(select(func.count()).select_from(JobFileRow))
    finally:
        engine.dispose()
    assert sorted(rows) == [("done", 1)] * 12
    assert reports == 24
    # Each job ended once, and both servers' job processes ran some (claims competed).
    ended = [re.findall(r"job (\S+): done", server.log_text()) for server in servers]
    assert sorted(ended[0] + ended[1]) == sorted(jobs)
    assert all(ended)
