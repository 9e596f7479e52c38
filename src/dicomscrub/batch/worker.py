"""The work done for one file inside a worker process, and the per-file failure boundary."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from dicomscrub.conditions import Condition, evaluate_conditions
from dicomscrub.errors import FileError, StorageError
from dicomscrub.pipeline import read_dataset, scrub_bytes
from dicomscrub.profile.policy import Policy
from dicomscrub.storage import open_read, read_bytes, write_atomic
from dicomscrub.storage.integrations import Integration

__all__ = ["HeaderTask", "ProcessTask", "WorkerContext", "init_worker", "read_header", "scrub_one"]

log = logging.getLogger("dicomscrub.batch")


@dataclass(frozen=True)
class WorkerContext:
    """What every worker needs, sent once when the worker starts."""

    policy: Policy
    conditions: tuple[Condition, ...]
    input_integration: Integration | None
    output_integration: Integration | None
    dry_run: bool
    record_actions: bool


_CTX: WorkerContext | None = None


def init_worker(ctx: WorkerContext) -> None:
    """Pool initializer: keep the job's context in this process."""
    global _CTX  # noqa: PLW0603 - one context per worker process, set once
    _CTX = ctx


def _ctx() -> WorkerContext:
    if _CTX is None:
        raise RuntimeError("worker used before init_worker")
    return _CTX


def _kw(integration: Integration | None) -> dict[str, Any]:
    return {} if integration is None else {"integration": integration}


@dataclass(frozen=True)
class HeaderTask:
    url: str


@dataclass(frozen=True)
class ProcessTask:
    url: str
    out_url: str | None


def _error(exc: BaseException, *, writing: bool = False) -> dict[str, str]:
    if isinstance(exc, FileError):
        return {"code": exc.code, "message": exc.message}
    if isinstance(exc, StorageError):
        if writing and not exc.retryable and "://" not in exc.url:
            return {"code": "output-unwritable", "message": str(exc.args[0])}
        code = "storage" if exc.retryable or "://" in exc.url else "unreadable"
        return {"code": code, "message": str(exc.args[0]) + (" (retryable)" if exc.retryable else "")}
    # The one broad boundary of dicomscrub: anything unexpected fails this file only.
    return {"code": "internal", "message": f"{type(exc).__name__} while processing the file"}


def read_header(task: HeaderTask) -> dict[str, Any]:
    """Read one file's header (no pixel data) and evaluate the save conditions."""
    ctx = _ctx()
    info: dict[str, Any] = {"url": task.url}
    try:
        with open_read(task.url, **_kw(ctx.input_integration)) as fh:
            ds = read_dataset(fh, headers_only=True)
        info["study"] = str(ds.get("StudyInstanceUID", "") or "").strip() or None
        info["series"] = str(ds.get("SeriesInstanceUID", "") or "").strip() or None
        info["sop"] = str(ds.get("SOPInstanceUID", "") or "").strip() or None
        evaluations, passed = evaluate_conditions(ctx.conditions, ds)
        info["evaluations"] = [e.to_json() for e in evaluations]
        info["passed"] = passed
        if info["series"] is None:
            raise FileError("missing-series-uid")
        if info["sop"] is None:
            raise FileError("missing-sop-uid")
    except Exception as exc:  # noqa: BLE001 - the per-file failure boundary
        info["error"] = _error(exc)
        if not isinstance(exc, FileError | StorageError):
            log.exception("unexpected error reading a header")
    return info


def scrub_one(task: ProcessTask) -> dict[str, Any]:
    """De-identify one file and write it (unless dry run); never raises."""
    ctx = _ctx()
    out: dict[str, Any] = {"url": task.url}
    stage = "read"
    try:
        data = read_bytes(task.url, **_kw(ctx.input_integration))
        stage = "scrub"
        new, result = scrub_bytes(data, ctx.policy)
        ds = result.dataset
        out["study_deid"] = str(ds.get("StudyInstanceUID", "") or "") or None
        out["series_deid"] = str(ds.get("SeriesInstanceUID", "") or "") or None
        out["actions_applied"] = result.actions_applied
        out["pixel_regions"] = result.pixel_regions if result.pixels_processed else None
        if ctx.record_actions and result.header is not None:
            out["actions"] = [a.to_json() for a in result.header.actions]
        if not ctx.dry_run and task.out_url is not None:
            stage = "write"
            write_atomic(task.out_url, new, **_kw(ctx.output_integration))
            out["written"] = True
    except Exception as exc:  # noqa: BLE001 - the per-file failure boundary
        out["error"] = _error(exc, writing=stage == "write")
        if not isinstance(exc, FileError | StorageError):
            log.exception("unexpected error processing a file")
    return out
