"""Object storage throughput: the same job local -> local and S3 -> S3 (moto), same run.

``python -m benchmarks.run bench_storage [--quick]``. Writes a synthetic corpus
(``dicomscrub.synthetic.corpus.make_corpus``: 400 files of 256x256 CT/MR, 40 with
``--quick``) to ``bench-data/storage/``, uploads it to a moto S3 server started on
127.0.0.1 in its own process, then for each number of concurrent transfers N (the
``--workers`` of the job: each worker process reads, scrubs and uploads one file at a
time) runs, one after the other:

a. ``python -m dicomscrub.cli.main deidentify DIR --out DIR2 --key-file K --workers N``
b. ``python -m dicomscrub.cli.main deidentify s3://bench/raw/ --out s3://bench/out-N/
   --integration moto --key-file K --workers N``

Each figure is the wall time of the CLI process from start to exit (interpreter start,
listing, headers pass, writes), so files/s = files / seconds. The ratio S3 / local per N
says what object storage costs; the N with the best ratio is reported. moto is a single
Python process on the same 2 cores, so it competes with the workers for CPU: a real S3
endpoint would not, and the S3 figures are a floor.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from dicomscrub.storage import write_atomic
from dicomscrub.storage.integrations import Integration, save_integration
from dicomscrub.synthetic.corpus import make_corpus

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench-data" / "storage"
ACCESS_KEY = "bench-key-id"
SECRET_KEY = "bench-secret"  # moto accepts any credentials; nothing real


@dataclass(frozen=True)
class Row:
    """One number of concurrent transfers: both jobs' wall times."""

    workers: int
    files: int
    local_seconds: float
    s3_seconds: float

    @property
    def local_fps(self) -> float:
        return self.files / self.local_seconds

    @property
    def s3_fps(self) -> float:
        return self.files / self.s3_seconds

    @property
    def ratio(self) -> float:
        """S3 throughput as a fraction of local throughput."""
        return self.local_seconds / self.s3_seconds

    def as_json(self) -> dict[str, float]:
        return {
            "workers": self.workers,
            "local_seconds": round(self.local_seconds, 2),
            "local_files_per_s": round(self.local_fps, 1),
            "s3_seconds": round(self.s3_seconds, 2),
            "s3_files_per_s": round(self.s3_fps, 1),
            "ratio_s3_to_local": round(self.ratio, 2),
        }


def _corpus(quick: bool) -> tuple[Path, list[Path]]:
    patients, files = (2, 10) if quick else (10, 20)
    folder = DATA / f"corpus-{patients}x2x{files}"
    marker = folder / ".complete"
    if not marker.exists():
        shutil.rmtree(folder, ignore_errors=True)
        make_corpus(
            folder, patients=patients, series_per_patient=2, files_per_series=files,
            rows=256, columns=256,
        )  # fmt: skip
        marker.write_text("ok\n")
    return folder, sorted(folder.rglob("*.dcm"))


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _start_moto() -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    import socket

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return proc, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.1)
    proc.terminate()
    raise RuntimeError("moto did not start")


def _cli(args: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "dicomscrub.cli.main", "deidentify", *args, "-q"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"job failed (exit {done.returncode}): {done.stderr[-2000:]}")
    return seconds


def run_all(quick: bool) -> tuple[int, int, list[Row]]:
    """Time both jobs for each number of concurrent transfers; returns the results."""
    corpus, files = _corpus(quick)
    n = len(files)
    work = Path(tempfile.mkdtemp(prefix="bench-storage-"))
    key = work / "bench.key"
    key.write_text(os.urandom(32).hex())
    env = {**os.environ, "DICOMSCRUB_CONFIG_DIR": str(work / "config")}
    os.environ["DICOMSCRUB_CONFIG_DIR"] = env["DICOMSCRUB_CONFIG_DIR"]
    proc, endpoint = _start_moto()
    rows: list[Row] = []
    try:
        integration = Integration(
            name="moto",
            kind="s3",
            endpoint_url=endpoint,
            region="us-east-1",
            credentials={"access_key_id": ACCESS_KEY, "secret_access_key": SECRET_KEY},
        )
        save_integration(integration, replace=True)
        import boto3  # type: ignore[import-untyped]  # no stubs; only to create the bucket

        boto3.client(
            "s3",
            endpoint_url=endpoint,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name="us-east-1",
        ).create_bucket(Bucket="bench")
        for path in files:
            rel = path.relative_to(corpus).as_posix()
            write_atomic(f"s3://bench/raw/{rel}", path.read_bytes(), integration=integration)
        print(f"corpus: {n} files uploaded to moto at {endpoint}", flush=True)
        common = ["--key-file", str(key), "--timestamp", "1"]
        for workers in (1, 4) if quick else (1, 2, 4, 8):
            out = work / f"local-{workers}"
            local = _cli(
                [str(corpus), "--out", str(out), "--workers", str(workers),
                 "--report", str(work / f"local-{workers}.jsonl"), *common],
                env,
            )  # fmt: skip
            remote = _cli(
                ["s3://bench/raw/", "--out", f"s3://bench/out-{workers}/",
                 "--integration", "moto", "--workers", str(workers),
                 "--report", str(work / f"s3-{workers}.jsonl"), *common],
                env,
            )  # fmt: skip
            row = Row(workers, n, local, remote)
            rows.append(row)
            print(json.dumps(row.as_json()), flush=True)
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(work, ignore_errors=True)
    return n, files[0].stat().st_size, rows


def main(quick: bool = False) -> None:
    """Run the storage benchmark (40 files with ``quick``, else 400)."""
    n, size, rows = run_all(quick)
    print(f"{'N':>3} {'local f/s':>10} {'s3 f/s':>8} {'s3/local':>9}")
    for row in rows:
        print(f"{row.workers:>3} {row.local_fps:>10.1f} {row.s3_fps:>8.1f} {row.ratio:>9.2f}")
    best = max(rows, key=lambda r: r.ratio)
    fastest_s3 = max(rows, key=lambda r: r.s3_fps)
    fastest_local = max(rows, key=lambda r: r.local_fps)
    # Both views: the ratio at one N (what the issue asks), and each side at its own best
    # N, since local jobs on few cores can slow down with more workers than cores.
    overall = fastest_s3.s3_fps / fastest_local.local_fps
    print(f"best ratio {best.ratio:.2f} at {best.workers} concurrent transfers")
    print(
        f"fastest S3 {fastest_s3.s3_fps:.1f} files/s at N={fastest_s3.workers}, fastest "
        f"local {fastest_local.local_fps:.1f} files/s at N={fastest_local.workers}: "
        f"{overall:.2f}",
        flush=True,
    )
    results = {
        "files": n,
        "file_bytes": size,
        "runs": [r.as_json() for r in rows],
        "best_ratio": best.as_json(),
        "fastest_s3": fastest_s3.as_json(),
        "fastest_local": fastest_local.as_json(),
        "fastest_s3_to_fastest_local": round(overall, 2),
    }
    DATA.mkdir(parents=True, exist_ok=True)
    out = DATA / f"results-{n}.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"results: {out}", flush=True)


if __name__ == "__main__":
    main(quick="--quick" in sys.argv[1:])
