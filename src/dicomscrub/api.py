"""The Python API: build a policy from plain settings and run a job."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from dicomscrub.batch import JobSpec, run_batch
from dicomscrub.batch.executors import default_workers
from dicomscrub.conditions import Condition
from dicomscrub.errors import ConfigError
from dicomscrub.keys import resolve_key
from dicomscrub.profile.options import parse_options
from dicomscrub.profile.policy import PixelMode, Policy
from dicomscrub.report.models import FileReport
from dicomscrub.storage.integrations import Integration
from dicomscrub.storage.naming import DEFAULT_NAME_TEMPLATE

__all__ = ["build_policy", "deidentify"]


def build_policy(
    *,
    key: bytes | None = None,
    key_file: Path | None = None,
    options: Iterable[str] = (),
    profile: Path | None = None,
    patient_lookup: Path | None = None,
    redact_tags: bool = True,
    pixels: str | PixelMode = PixelMode.NONE,
    pixel_rules: Path | None = None,
    union_frames: bool = False,
    lossy_reencode: bool = False,
) -> Policy:
    """Validate settings into a :class:`Policy`; raises ``ConfigError`` on any bad one.

    Options given here are added to those of the ``profile`` file. Without ``key``,
    the key comes from :func:`dicomscrub.keys.resolve_key` (``key_file``, the
    environment, or the user's config folder).
    """
    chosen = set(parse_options(list(options)))
    overrides: tuple[Any, ...] = ()
    base = "basic"
    if profile is not None:
        from dicomscrub.profile.profile_file import load_profile_file

        loaded = load_profile_file(profile)
        chosen |= loaded.options
        overrides = loaded.overrides
        base = loaded.base
    chosen_options = parse_options([o.value for o in chosen])
    lookup = None
    if patient_lookup is not None:
        from dicomscrub.profile.lookup import load_patient_lookup

        lookup = load_patient_lookup(patient_lookup)
    rules = None
    if pixel_rules is not None:
        from dicomscrub.pixels.rules import load_rules

        # Parsed once, here: a bad file fails before any file is touched, and workers
        # receive the rules with the policy instead of reading the file again.
        rules = load_rules(pixel_rules)
    try:
        mode = pixels if isinstance(pixels, PixelMode) else PixelMode.from_reference(pixels)
    except ValueError:
        valid = ", ".join(m.value for m in PixelMode)
        raise ConfigError(f"unknown pixel mode {pixels!r}; choose one of {valid}") from None
    if key is None:
        key = resolve_key(key_file).key
    return Policy(
        key=key,
        options=chosen_options,
        overrides=overrides,
        patient_lookup=lookup,
        redact_tags=redact_tags,
        pixels=mode,
        pixel_rules=rules,
        union_frames=union_frames,
        lossy_reencode=lossy_reencode,
        base_profile=base,
    )


def deidentify(
    urls: Sequence[str] | str,
    out: str | None = None,
    *,
    policy: Policy | None = None,
    conditions: Iterable[Condition | dict[str, Any]] = (),
    report: str | None = None,
    workers: int | None = None,
    name_template: str = DEFAULT_NAME_TEMPLATE,
    dry_run: bool = False,
    resume: bool = False,
    timestamp: int | None = None,
    integration: Integration | None = None,
    output_integration: Integration | None = None,
    **policy_settings: Any,
) -> list[FileReport]:
    """De-identify ``urls`` (files, folders, globs, URLs) into ``out``; one report per input.

    Without ``out`` the outputs go beside the sources, named ``deid_{timestamp}_{name}``.
    ``conditions`` take :class:`Condition` objects or the reference's dicts.
    ``timestamp`` (default: now) is the job's integer in output names; pass the earlier
    run's with ``resume=True``. Raises ``ConfigError`` (nothing touched) on a bad
    setting; per-file failures are in the returned reports. Any other
    keyword is a :func:`build_policy` setting (``pixels="all-text"``,
    ``options=["retain-uids"]``, ``key_file=...``).
    """
    if policy is None:
        policy = build_policy(**policy_settings)
    elif policy_settings:
        raise ConfigError("pass either policy= or policy settings, not both")
    parsed = tuple(c if isinstance(c, Condition) else Condition.from_json(c) for c in conditions)
    spec = JobSpec(
        sources=(urls,) if isinstance(urls, str) else tuple(urls),
        policy=policy,
        out=out,
        conditions=parsed,
        name_template=name_template,
        dry_run=dry_run,
        workers=default_workers() if workers is None else workers,
        resume=resume,
        report_url=report,
        input_integration=integration,
        output_integration=output_integration or integration,
        timestamp=int(time.time()) if timestamp is None else timestamp,
    )
    reports: list[FileReport] = []
    run_batch(spec, on_report=reports.append)
    return reports
