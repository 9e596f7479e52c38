"""API keys: created once and shown once, stored as SHA-256, revocable.

A key reads ``dsk_<id>_<secret>``: ``id`` names the key (for ``keys revoke``) and the
secret carries 256 random bits, so a plain SHA-256 is a safe way to store it (there is
nothing to brute-force, unlike a password).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from dicomscrub.errors import ConfigError
from dicomscrub.service.db import ApiKeyRow, utcnow

__all__ = ["KEY_PREFIX", "ApiKeyInfo", "authenticate", "create_key", "list_keys", "revoke_key"]

KEY_PREFIX = "dsk_"


@dataclass(frozen=True)
class ApiKeyInfo:
    """What may be shown about a key: never the key itself."""

    id: str
    owner: str
    revoked: bool


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def create_key(engine: Engine, owner: str) -> tuple[ApiKeyInfo, str]:
    """Create a key for ``owner``; returns its info and the key (shown this once only)."""
    name = owner.strip()
    if not name or len(name) > 200:
        raise ConfigError("a key's --name must be 1 to 200 characters")
    key_id = secrets.token_hex(8)
    key = f"{KEY_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
    with Session(engine) as session, session.begin():
        session.add(ApiKeyRow(id=key_id, owner=name, key_hash=_hash(key), created_at=utcnow()))
    return ApiKeyInfo(id=key_id, owner=name, revoked=False), key


def revoke_key(engine: Engine, key_id: str) -> ApiKeyInfo:
    """Revoke the key ``key_id`` (its id, or the whole key); ConfigError if unknown."""
    ident = key_id.strip()
    if ident.startswith(KEY_PREFIX):
        ident = ident[len(KEY_PREFIX) :].split("_", 1)[0]
    with Session(engine) as session, session.begin():
        row = session.get(ApiKeyRow, ident)
        if row is None:
            raise ConfigError(f"no API key with id {ident!r}")
        if row.revoked_at is None:
            row.revoked_at = utcnow()
        return ApiKeyInfo(id=row.id, owner=row.owner, revoked=True)


def list_keys(engine: Engine) -> list[ApiKeyInfo]:
    """Every key, oldest first."""
    with Session(engine) as session:
        rows = session.scalars(select(ApiKeyRow).order_by(ApiKeyRow.created_at))
        return [ApiKeyInfo(r.id, r.owner, r.revoked_at is not None) for r in rows]


def authenticate(engine: Engine, key: str) -> str | None:
    """The owner of ``key`` if it is a live key, else None."""
    if not key.startswith(KEY_PREFIX):
        return None
    wanted = _hash(key)
    with Session(engine) as session:
        row = session.scalar(select(ApiKeyRow).where(ApiKeyRow.key_hash == wanted))
    # The lookup is by hash, so timing reveals nothing of the key; compare anyway.
    if row is None or row.revoked_at is not None or not hmac.compare_digest(row.key_hash, wanted):
        return None
    return row.owner
