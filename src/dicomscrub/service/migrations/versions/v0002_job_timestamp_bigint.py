"""Jobs' ``timestamp`` as a 64-bit integer, so submissions after 2038-01-19 fit.

A Unix time in seconds overflows PostgreSQL's 32-bit ``integer`` then. SQLite's
``INTEGER`` is 64-bit already, and rebuilding ``jobs`` there (its only way to alter a
column) would cascade-delete every job's reports, so SQLite is left as it is.

Revision ID: 0002
Revises: 0001
Create Date: 2025-01-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Widen ``jobs.timestamp`` where the column is 32-bit."""
    if op.get_bind().dialect.name == "sqlite":
        return
    op.alter_column(
        "jobs",
        "timestamp",
        type_=sa.BigInteger(),
        existing_type=sa.Integer(),
        existing_nullable=False,
    )


def downgrade() -> None:
    """Narrow ``jobs.timestamp`` back (fails if a stored value no longer fits)."""
    if op.get_bind().dialect.name == "sqlite":
        return
    op.alter_column(
        "jobs",
        "timestamp",
        type_=sa.Integer(),
        existing_type=sa.BigInteger(),
        existing_nullable=False,
    )
