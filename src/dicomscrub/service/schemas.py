"""Request and response bodies of the HTTP API (pydantic).

Requests accept the reference client's camelCase keys as well as snake_case; errors
name fields in snake_case. Validation defers to the engine's own parsers
(:class:`~dicomscrub.conditions.Condition`, :func:`~dicomscrub.profile.options.parse_options`,
:func:`~dicomscrub.storage.urls.parse_location`), so the service accepts exactly what the
CLI accepts.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from enum import StrEnum
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from dicomscrub.conditions import Condition
from dicomscrub.errors import ConfigError
from dicomscrub.profile.options import parse_options
from dicomscrub.storage.integrations import CREDENTIAL_NAMES, Integration
from dicomscrub.storage.urls import parse_location

__all__ = [
    "DeidentifyRequest",
    "IntegrationCreate",
    "IntegrationOut",
    "JobCreated",
    "JobList",
    "JobResult",
    "JobSummaryOut",
    "RedactTextMode",
    "ReportPage",
    "SaveConditionIn",
]

_CAMEL: Final = re.compile(r"(?<=[a-z0-9])([A-Z])")


def _snake_keys(data: Any) -> Any:
    """Rename camelCase keys of a JSON object to snake_case (others untouched)."""
    if not isinstance(data, Mapping):
        return data
    return {_CAMEL.sub(r"_\1", k).lower() if isinstance(k, str) else k: v for k, v in data.items()}


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _accept_camel_case(cls, data: Any) -> Any:
        return _snake_keys(data)


class RedactTextMode(StrEnum):
    """The reference API's ``redact_pixels_mode`` names."""

    REDACT_NO_TEXT = "REDACT_NO_TEXT"
    REDACT_ALL_TEXT = "REDACT_ALL_TEXT"
    REDACT_SENSITIVE_TEXT = "REDACT_SENSITIVE_TEXT"


class SaveConditionIn(_Request):
    """One save condition, ``{value, condition_type, dicom_tag}``."""

    value: str | list[str] | None = None
    condition_type: str
    dicom_tag: str = Field(min_length=1)

    @model_validator(mode="after")
    def _valid_for_the_engine(self) -> SaveConditionIn:
        # ConfigError is a ValueError: pydantic turns its message (which names the
        # field) into a 422 entry located at this condition.
        self.to_condition()
        return self

    def to_condition(self) -> Condition:
        """The engine's :class:`Condition` for this entry."""
        return Condition.from_json(self.model_dump(exclude_none=True))


class DeidentifyRequest(_Request):
    """``POST /dicom-deidentification``: the reference payload plus our optional extras."""

    integration_uuid: uuid.UUID | None = None
    dicom_urls: list[str] = Field(min_length=1, max_length=100_000)
    redact_dicom_tags: bool = True
    redact_pixels_mode: RedactTextMode = RedactTextMode.REDACT_NO_TEXT
    save_conditions: list[SaveConditionIn] | None = None
    upload_dir: str | None = None
    options: list[str] = Field(default_factory=list)

    @field_validator("dicom_urls")
    @classmethod
    def _readable_urls(cls, urls: list[str]) -> list[str]:
        for url in urls:
            if not url:
                raise ValueError("an entry is empty")
            parse_location(url)
        return urls

    @field_validator("upload_dir")
    @classmethod
    def _writable_dir(cls, value: str | None) -> str | None:
        if value is not None:
            if not value:
                raise ValueError("must not be empty")
            parse_location(value)
        return value

    @field_validator("options")
    @classmethod
    def _known_options(cls, names: list[str]) -> list[str]:
        parse_options(names)
        return names

    def conditions(self) -> tuple[Condition, ...]:
        """The engine's conditions for this request."""
        return tuple(c.to_condition() for c in self.save_conditions or ())


class JobCreated(BaseModel):
    """The answer to a submission (the reference client reads ``uuid``)."""

    uuid: str


class JobResult(BaseModel):
    """The long-poll answer: ``status`` as the reference has it, plus our progress."""

    status: str  # DONE | ERROR | PENDING
    urls: list[str]
    state: str
    total: int
    processed: int
    error: str | None = None


class JobSummaryOut(BaseModel):
    """One job in a listing."""

    uuid: str
    status: str
    state: str
    total: int
    processed: int
    created_at: str
    finished_at: str | None


class JobList(BaseModel):
    """A page of the caller's jobs, newest first."""

    jobs: list[JobSummaryOut]
    next_offset: int | None


class ReportPage(BaseModel):
    """A page of per-file reports, in the order the files finished."""

    reports: list[dict[str, Any]]
    total: int
    next_offset: int | None


class IntegrationCreate(_Request):
    """``POST /integrations``: credentials are write-only."""

    title: str = Field(min_length=1, max_length=200)
    kind: str
    endpoint_url: str | None = Field(default=None, max_length=2000)
    region: str | None = Field(default=None, max_length=100)
    credentials: dict[str, str] = Field(default_factory=dict)
    anonymous: bool = False

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, kind: str) -> str:
        if kind not in CREDENTIAL_NAMES:
            raise ValueError(f"unknown kind {kind!r}; known: {sorted(CREDENTIAL_NAMES)}")
        return kind

    @model_validator(mode="after")
    def _valid_integration(self) -> IntegrationCreate:
        self.to_integration(uuid.uuid4())
        return self

    def to_integration(self, ident: uuid.UUID) -> Integration:
        """The storage layer's :class:`Integration`, named by its id."""
        try:
            return Integration(
                name=str(ident),
                kind=self.kind,
                endpoint_url=self.endpoint_url,
                region=self.region,
                credentials=dict(self.credentials),
                anonymous=self.anonymous,
            )
        except ConfigError as exc:
            # Storage names the integration by its id; callers know it by title.
            raise ValueError(str(exc).replace(repr(str(ident)), repr(self.title))) from None


class IntegrationOut(BaseModel):
    """An integration as the API shows it: never its credentials."""

    id: str
    title: str
    kind: str
    endpoint_url: str | None
    region: str | None
    credential_names: list[str]
    created_at: str
