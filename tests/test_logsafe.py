"""Unexpected errors are logged by type and place, never by their text."""

from __future__ import annotations

import logging

import pytest

from dicomscrub.batch.worker import WorkerContext, scrub_one
from dicomscrub.logsafe import log_unexpected


def _raise_with_value() -> None:
    raise ValueError("Invalid value for VR PN: 'HARTMANN^GRETA'")


def test_the_message_of_an_unexpected_error_is_not_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    log = logging.getLogger("dicomscrub.test")
    try:
        _raise_with_value()
    except ValueError as exc:
        with caplog.at_level(logging.ERROR):
            log_unexpected(log, "while testing", exc)
    text = caplog.text
    assert "ValueError" in text and "_raise_with_value" in text
    assert "HARTMANN" not in text


def test_the_batch_boundary_logs_no_value(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    from pathlib import Path

    from dicomscrub.batch import worker
    from dicomscrub.batch.worker import ProcessTask
    from dicomscrub.profile.policy import Policy
    from tests.factories import write_phi_file

    path, _patient = write_phi_file(Path(str(tmp_path)))

    def broken(*_args: object, **_kwargs: object) -> None:
        _raise_with_value()

    monkeypatch.setattr(worker, "scrub_to_parts", broken)
    context = WorkerContext(
        policy=Policy(key=b"k" * 32),
        conditions=(),
        input_integration=None,
        output_integration=None,
        dry_run=True,
        record_actions=False,
    )
    with caplog.at_level(logging.ERROR):
        outcome = scrub_one(context, ProcessTask(str(path), None))
    assert outcome.error is not None and outcome.error.code == "internal"
    assert "HARTMANN" not in caplog.text and "HARTMANN" not in outcome.error.message
    assert "ValueError" in caplog.text
