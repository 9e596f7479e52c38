"""What every request handler needs, and the API-key check they share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool

from dicomscrub.service.auth import authenticate
from dicomscrub.service.events import JobEvents
from dicomscrub.service.http_errors import ApiError
from dicomscrub.service.metrics import ServiceMetrics
from dicomscrub.service.settings import ServiceSettings
from dicomscrub.service.vault import Vault

__all__ = ["Context", "Owner", "ServiceContext", "get_context", "require_owner"]


@dataclass
class ServiceContext:
    """The service's shared parts, held by the app."""

    settings: ServiceSettings
    engine: Engine
    vault: Vault
    events: JobEvents
    metrics: ServiceMetrics
    wake_dispatcher: object = None  # a callable once the dispatcher runs

    def job_submitted(self) -> None:
        """Tell the dispatcher a job is waiting."""
        if callable(self.wake_dispatcher):
            self.wake_dispatcher()


def get_context(request: Request) -> ServiceContext:
    """The context of the app serving ``request``."""
    context: ServiceContext = request.app.state.context
    return context


Context = Annotated[ServiceContext, Depends(get_context)]


async def require_owner(request: Request, context: Context) -> str:
    """The owner of the request's API key; 401 without a live key."""
    header = request.headers.get("authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise ApiError(401, "an API key is required: send 'Authorization: Bearer KEY'")
    owner = await run_in_threadpool(authenticate, context.engine, key.strip())
    if owner is None:
        raise ApiError(401, "the API key is unknown or revoked")
    return owner


Owner = Annotated[str, Depends(require_owner)]
