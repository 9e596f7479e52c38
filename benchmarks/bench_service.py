"""Job throughput through ``dicomscrub serve`` against the CLI, and long-poll latency.

``python -m benchmarks.run bench_service [--quick]``. Generates (once) 600 synthetic
256x256 CT files in ``bench-data/service/`` (``--quick``: 120), then, in one run:

a. ``dicomscrub deidentify FOLDER --out OUT --workers W`` as a child process (wall time
   from start to exit, interpreter start-up included);
b. the same folder as one job through a running server (``--job-processes 1
   --job-workers W``): wall time from the POST to the long-poll's DONE;
c. the same files as many 10-file jobs submitted at once (``--job-processes W
   --job-workers 1``), until the last one is DONE;
d. long-poll latency: one-file jobs, each watched by a long-poll already waiting when
   the job ends; latency is the time from the job's recorded end (``finished_at``,
   written by the job process) to the poll's answer reaching the client. p50 and p99.

Storage is local in every case, and W is ``min(4, cpu_count)``.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from dicomscrub.service.auth import create_key
from dicomscrub.service.db import make_engine, migrate
from dicomscrub.synthetic.patients import make_patients, write_series

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench-data" / "service"
SIZE = 256
SERIES_LENGTH = 60
GENERATOR_VERSION = "1"
KEY = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"


def ensure_corpus(n: int) -> Path:
    """The folder of ``n`` CT files, generated unless a complete one is there already."""
    folder = DATA / f"ct{SIZE}-{n}"
    marker = folder / ".complete"
    if marker.exists() and marker.read_text().strip() == f"{GENERATOR_VERSION} {n}":
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    series = math.ceil(n / SERIES_LENGTH)
    patients = make_patients(series, seed=2)
    written = 0
    for index in range(series):
        count = min(SERIES_LENGTH, n - written)
        write_series(
            folder / f"s{index:02d}", patients[index], n=count, rows=SIZE, columns=SIZE, seed=index
        )
        written += count
    marker.write_text(f"{GENERATOR_VERSION} {n}\n")
    return folder


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DICOMSCRUB_")}
    env.update(DICOMSCRUB_KEY=KEY, DICOMSCRUB_DATA_DIR=str(data_dir), PYTHONUNBUFFERED="1")
    return env


def run_cli(folder: Path, out: Path, workers: int, env: dict[str, str]) -> float:
    """Seconds for the CLI to de-identify ``folder`` into ``out``."""
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "dicomscrub.cli.main", "deidentify", str(folder),
         "--out", str(out), "--workers", str(workers), "-q"],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    return time.perf_counter() - start


class Server:
    """A ``dicomscrub serve`` child process with its own data folder."""

    def __init__(self, data_dir: Path, processes: int, workers: int) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = int(s.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        data_dir.mkdir(parents=True, exist_ok=True)
        self.log = (data_dir / "server.log").open("wb")
        engine = make_engine(f"sqlite:///{data_dir / 'service.db'}")
        migrate(engine)
        self.key = create_key(engine, "bench")[1]
        engine.dispose()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "dicomscrub.cli.main", "serve", "--port", str(self.port),
             "--job-processes", str(processes), "--job-workers", str(workers),
             "--log-level", "warning"],
            env=_env(data_dir),
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        self.http = httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {self.key}"}, timeout=120
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if self.http.get("/healthz").status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError("the server did not start")

    def submit(self, urls: list[str], out: Path) -> str:
        response = self.http.post(
            "/dicom-deidentification", json={"dicom_urls": urls, "upload_dir": str(out)}
        )
        response.raise_for_status()
        return str(response.json()["uuid"])

    def wait(self, job: str) -> dict[str, object]:
        while True:
            body: dict[str, object] = self.http.get(
                f"/dicom-deidentification/{job}", params={"timeout_seconds": 60}
            ).json()
            if body["status"] != "PENDING":
                return body

    def finished_at(self, job: str) -> datetime:
        jobs = self.http.get("/dicom-deidentification", params={"limit": 1000}).json()["jobs"]
        stamp = next(j["finished_at"] for j in jobs if j["uuid"] == job)
        when = datetime.fromisoformat(stamp)
        return when if when.tzinfo else when.replace(tzinfo=UTC)

    def stop(self) -> None:
        self.http.close()
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def _warm(server: Server, sample: Path, out: Path) -> None:
    """One tiny job, so the job processes have imported everything before timing."""
    server.wait(server.submit([str(sample)], out))


def bench_one_job(folder: Path, tmp: Path, workers: int, files: int) -> float:
    server = Server(tmp / "srv-one", processes=1, workers=workers)
    try:
        _warm(server, next(folder.rglob("*.dcm")), tmp / "warm-one")
        start = time.perf_counter()
        result = server.wait(server.submit([str(folder)], tmp / "out-one"))
        seconds = time.perf_counter() - start
        assert result["status"] == "DONE" and len(result["urls"]) == files, result  # type: ignore[arg-type]
        return seconds
    finally:
        server.stop()


def bench_many_jobs(folder: Path, tmp: Path, workers: int, files: list[Path]) -> float:
    server = Server(tmp / "srv-many", processes=workers, workers=1)
    try:
        _warm(server, files[0], tmp / "warm-many")
        start = time.perf_counter()
        jobs = [
            server.submit([str(p) for p in files[i : i + 10]], tmp / "out-many" / str(i))
            for i in range(0, len(files), 10)
        ]
        for job in jobs:
            assert server.wait(job)["status"] == "DONE"
        return time.perf_counter() - start
    finally:
        server.stop()


def bench_latency(files: list[Path], tmp: Path, count: int) -> list[float]:
    server = Server(tmp / "srv-latency", processes=1, workers=1)
    latencies = []
    try:
        _warm(server, files[0], tmp / "warm-latency")
        for index in range(count):
            job = server.submit([str(files[index % len(files)])], tmp / "out-lat" / str(index))
            result = server.wait(job)
            answered = datetime.now(UTC)
            assert result["status"] == "DONE", result
            latencies.append((answered - server.finished_at(job)).total_seconds())
        return latencies
    finally:
        server.stop()


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def main(quick: bool) -> None:
    """Run the four measurements and print the figures (JSON on the last line)."""
    n = 120 if quick else 600
    workers = max(1, min(4, os.cpu_count() or 1))
    folder = ensure_corpus(n)
    files = sorted(folder.rglob("*.dcm"))
    with tempfile.TemporaryDirectory(prefix="bench-service-") as name:
        tmp = Path(name)
        cli_seconds = run_cli(folder, tmp / "out-cli", workers, _env(tmp / "cli-data"))
        one_seconds = bench_one_job(folder, tmp, workers, n)
        many_seconds = bench_many_jobs(folder, tmp, workers, files)
        latencies = bench_latency(files, tmp, 15 if quick else 60)
    figures = {
        "files": n,
        "workers": workers,
        "cli_files_per_s": round(n / cli_seconds, 1),
        "service_one_job_files_per_s": round(n / one_seconds, 1),
        "service_10_file_jobs_files_per_s": round(n / many_seconds, 1),
        "long_poll_latency_ms_p50": round(1000 * statistics.median(latencies), 1),
        "long_poll_latency_ms_p99": round(1000 * _percentile(latencies, 0.99), 1),
        "long_poll_samples": len(latencies),
    }
    print(f"corpus: {n} CT files {SIZE}x{SIZE}, local storage, W={workers}")
    print(f"CLI deidentify --workers {workers}:       {figures['cli_files_per_s']:8.1f} files/s")
    print(f"service, one job (job-workers {workers}):  "
          f"{figures['service_one_job_files_per_s']:8.1f} files/s")  # fmt: skip
    print(f"service, 10-file jobs ({workers} at once): "
          f"{figures['service_10_file_jobs_files_per_s']:8.1f} files/s")  # fmt: skip
    print(f"long-poll answer after job end: p50 {figures['long_poll_latency_ms_p50']} ms, "
          f"p99 {figures['long_poll_latency_ms_p99']} ms ({len(latencies)} jobs)")  # fmt: skip
    print(json.dumps(figures))


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
