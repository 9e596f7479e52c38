"""Batch runs: many files, series aggregation, one failure boundary per file."""

from dicomscrub.batch.runner import BatchSummary, default_report_url, run_batch
from dicomscrub.batch.spec import JobSpec

__all__ = ["BatchSummary", "JobSpec", "default_report_url", "run_batch"]
