"""JobSpec: one de-identification job, as the CLI, the Python API and the service build it."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from dicomscrub.conditions import Condition
from dicomscrub.profile.policy import Policy
from dicomscrub.storage.integrations import Integration
from dicomscrub.storage.naming import DEFAULT_NAME_TEMPLATE

__all__ = ["JobSpec"]


@dataclass(frozen=True)
class JobSpec:
    """Everything a job needs; immutable so it can be shipped to worker processes.

    ``sources`` are SRC arguments (files, folders, globs, lists, URLs or prefixes).
    ``out`` is a folder or URL prefix, or ``None`` to write beside each source.
    ``timestamp`` is the one integer of the job used in output names.
    """

    sources: tuple[str, ...]
    policy: Policy
    out: str | None = None
    conditions: tuple[Condition, ...] = ()
    name_template: str = DEFAULT_NAME_TEMPLATE
    timestamp: int = field(default_factory=lambda: int(time.time()))
    dry_run: bool = False
    workers: int = 1
    executor: str = "process"
    resume: bool = False
    report_url: str | None = None
    input_integration: Integration | None = None
    output_integration: Integration | None = None
