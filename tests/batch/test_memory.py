"""Memory stays flat: a job of 300 files peaks no higher than one of 30 (loose bound).

Each run is a fresh interpreter, so ``ru_maxrss`` (a peak over the process's life) is the
peak of that job alone. Every file holds 32 KiB of pixels: a runner keeping the datasets
or bytes of 270 more files would grow by well over 8 MiB.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.factories import make_corpus

MEASURE = """
import resource, sys
from dicomscrub.batch import JobSpec, run_batch
from dicomscrub.profile.policy import Policy
spec = JobSpec(sources=(sys.argv[1],), policy=Policy(key=b"k" * 32), out=sys.argv[2], workers=1)
summary = run_batch(spec)
print(summary.saved, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""
ALLOWED_GROWTH_KIB = 8 * 1024


def peak_rss_kib(src: Path, out: Path) -> tuple[int, int]:
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, str(src), str(out)],
        capture_output=True,
        text=True,
        check=True,
    )
    saved, peak = done.stdout.split()
    return int(saved), int(peak)


@pytest.mark.slow
def test_peak_memory_does_not_grow_with_file_count(tmp_path: Path) -> None:
    small = make_corpus(
        tmp_path / "c30",
        patients=1,
        series_per_patient=1,
        files_per_series=30,
        rows=128,
        columns=128,
    )
    large = make_corpus(
        tmp_path / "c300",
        patients=2,
        series_per_patient=3,
        files_per_series=50,
        rows=128,
        columns=128,
    )
    saved_small, peak_small = peak_rss_kib(small.root, tmp_path / "o30")
    saved_large, peak_large = peak_rss_kib(large.root, tmp_path / "o300")
    assert (saved_small, saved_large) == (30, 300)
    assert peak_large - peak_small < ALLOWED_GROWTH_KIB, (peak_small, peak_large)
