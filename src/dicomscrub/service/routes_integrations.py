"""``/integrations``: named storage credentials, write-only secrets."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Body
from starlette.concurrency import run_in_threadpool

from dicomscrub.service.context import Context, Owner
from dicomscrub.service.http_errors import ApiError
from dicomscrub.service.integration_store import (
    IntegrationInfo,
    add_integration,
    delete_integration,
    get_integration_info,
    list_integrations,
)
from dicomscrub.service.schemas import IntegrationCreate, IntegrationOut

__all__ = ["router"]

router = APIRouter(prefix="/integrations", tags=["integrations"])


def _out(info: IntegrationInfo) -> IntegrationOut:
    return IntegrationOut(
        id=info.id,
        title=info.title,
        kind=info.kind,
        endpoint_url=info.endpoint_url,
        region=info.region,
        credential_names=list(info.credential_names),
        created_at=info.created_at,
    )


@router.post("", status_code=201)
async def create(
    payload: Annotated[IntegrationCreate, Body()], context: Context, owner: Owner
) -> IntegrationOut:
    """Register an integration; its credentials are sealed and never shown again."""
    ident = uuid.uuid4()
    info = await run_in_threadpool(
        add_integration,
        context.engine,
        context.vault,
        owner=owner,
        title=payload.title,
        integration=payload.to_integration(ident),
    )
    return _out(info)


@router.get("")
async def list_all(context: Context, owner: Owner) -> list[IntegrationOut]:
    """The caller's integrations (ids and titles; no secrets)."""
    found = await run_in_threadpool(list_integrations, context.engine, context.vault, owner=owner)
    return [_out(info) for info in found]


@router.get("/{integration_id}")
async def get_one(integration_id: uuid.UUID, context: Context, owner: Owner) -> IntegrationOut:
    """One of the caller's integrations."""
    info = await run_in_threadpool(
        get_integration_info, context.engine, context.vault, str(integration_id), owner=owner
    )
    if info is None:
        raise ApiError(404, f"no integration {integration_id}")
    return _out(info)


@router.delete("/{integration_id}")
async def delete(integration_id: uuid.UUID, context: Context, owner: Owner) -> dict[str, Any]:
    """Forget an integration (jobs still queued with it will fail)."""
    removed = await run_in_threadpool(
        delete_integration, context.engine, str(integration_id), owner=owner
    )
    if not removed:
        raise ApiError(404, f"no integration {integration_id}")
    return {"id": str(integration_id), "deleted": True}
