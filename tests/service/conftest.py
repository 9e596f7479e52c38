"""Fixtures of the service tests (defined in :mod:`tests.service.servers`)."""

from tests.service.servers import s3_server, service

__all__ = ["s3_server", "service"]
