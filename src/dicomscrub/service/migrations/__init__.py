"""Alembic migrations of the service database, run by :func:`dicomscrub.service.db.migrate`."""
