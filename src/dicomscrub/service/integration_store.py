"""Storage integrations in the database, credentials sealed by the server's vault."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from dicomscrub.service.db import IntegrationRow, utcnow
from dicomscrub.service.vault import Vault
from dicomscrub.storage.integrations import Integration

__all__ = [
    "IntegrationInfo",
    "add_integration",
    "delete_integration",
    "get_integration_info",
    "list_integrations",
    "open_integration",
]


@dataclass(frozen=True)
class IntegrationInfo:
    """What the API may show of an integration: credential names, never values."""

    id: str
    owner: str
    title: str
    kind: str
    endpoint_url: str | None
    region: str | None
    credential_names: tuple[str, ...]
    created_at: str


def _info(row: IntegrationRow, vault: Vault) -> IntegrationInfo:
    names = tuple(sorted(vault.open(row.sealed_credentials))) if row.sealed_credentials else ()
    return IntegrationInfo(
        id=row.id,
        owner=row.owner,
        title=row.title,
        kind=row.kind,
        endpoint_url=row.endpoint_url,
        region=row.region,
        credential_names=names,
        created_at=row.created_at.isoformat(),
    )


def add_integration(
    engine: Engine, vault: Vault, *, owner: str, title: str, integration: Integration
) -> IntegrationInfo:
    """Store ``integration`` under a new id (its ``name`` is replaced by that id)."""
    ident = integration.name if _is_uuid(integration.name) else str(uuid.uuid4())
    sealed = vault.seal(integration.credentials) if integration.credentials else None
    row = IntegrationRow(
        id=ident,
        owner=owner,
        title=title,
        kind=integration.kind,
        endpoint_url=integration.endpoint_url,
        region=integration.region,
        sealed_credentials=sealed,
        anonymous=integration.anonymous,
        created_at=utcnow(),
    )
    with Session(engine, expire_on_commit=False) as session, session.begin():
        session.add(row)
    return _info(row, vault)


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def list_integrations(engine: Engine, vault: Vault, *, owner: str) -> list[IntegrationInfo]:
    """The owner's integrations, oldest first."""
    with Session(engine) as session:
        rows = session.scalars(
            select(IntegrationRow)
            .where(IntegrationRow.owner == owner)
            .order_by(IntegrationRow.created_at, IntegrationRow.id)
        )
        return [_info(row, vault) for row in rows]


def get_integration_info(
    engine: Engine, vault: Vault, ident: str, *, owner: str
) -> IntegrationInfo | None:
    """One of the owner's integrations, or None."""
    with Session(engine) as session:
        row = session.get(IntegrationRow, ident)
        if row is None or row.owner != owner:
            return None
        return _info(row, vault)


def delete_integration(engine: Engine, ident: str, *, owner: str) -> bool:
    """Forget one of the owner's integrations; False if there is none."""
    with Session(engine) as session, session.begin():
        row = session.get(IntegrationRow, ident)
        if row is None or row.owner != owner:
            return False
        session.delete(row)
        return True


def open_integration(engine: Engine, vault: Vault, ident: str, *, owner: str) -> Integration | None:
    """The storage layer's :class:`Integration` with credentials decrypted (job processes only)."""
    with Session(engine) as session:
        row = session.get(IntegrationRow, ident)
        if row is None or row.owner != owner:
            return None
        credentials = vault.open(row.sealed_credentials) if row.sealed_credentials else {}
        return Integration(
            name=row.id,
            kind=row.kind,
            endpoint_url=row.endpoint_url,
            region=row.region,
            credentials=credentials,
            anonymous=row.anonymous,
        )
