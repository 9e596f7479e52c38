"""The FastAPI application factory of ``dicomscrub serve``."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from dicomscrub import __version__
from dicomscrub.keys import resolve_key
from dicomscrub.service import routes_integrations, routes_jobs
from dicomscrub.service.context import Owner, ServiceContext
from dicomscrub.service.db import make_engine, migrate
from dicomscrub.service.dispatcher import Dispatcher
from dicomscrub.service.events import JobEvents
from dicomscrub.service.http_errors import install_error_handlers
from dicomscrub.service.metrics import MetricsMiddleware, ServiceMetrics
from dicomscrub.service.settings import ServiceSettings
from dicomscrub.service.vault import load_vault

__all__ = ["create_app"]


def create_app(settings: ServiceSettings, *, run_jobs: bool = True) -> FastAPI:
    """Build the app: migrate the database, load the secrets, wire the routes.

    Raises :class:`~dicomscrub.errors.ConfigError` (before serving anything) when a key,
    the secret or the database is unusable. With ``run_jobs`` false no job is executed
    (used to inspect a database without touching its jobs).
    """
    engine = make_engine(settings.effective_database_url)
    migrate(engine)
    key = resolve_key(settings.key_file).key
    vault = load_vault(settings.effective_secret_key_file)
    metrics = ServiceMetrics()
    events = JobEvents()
    context = ServiceContext(
        settings=settings, engine=engine, vault=vault, events=events, metrics=metrics
    )
    dispatcher = (
        Dispatcher(engine, settings, key, metrics, on_job_end=events.notify) if run_jobs else None
    )

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        events.bind(asyncio.get_running_loop())
        if dispatcher is not None:
            dispatcher.start()
            context.wake_dispatcher = dispatcher.wake
        try:
            yield
        finally:
            if dispatcher is not None:
                await run_in_threadpool(dispatcher.stop)
            engine.dispose()

    app = FastAPI(
        title="dicomscrub",
        version=__version__,
        summary="DICOM de-identification jobs (the reference API's contract)",
        lifespan=lifespan,
    )
    app.state.context = context
    install_error_handlers(app)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    app.include_router(routes_jobs.router)
    app.include_router(routes_integrations.router)

    @app.get("/healthz", tags=["service"])
    async def healthz() -> dict[str, str]:
        """Liveness: answers without a key."""
        return {"status": "ok", "version": __version__}

    @app.get("/metrics", tags=["service"])
    async def prometheus_metrics(_owner: Owner) -> Response:
        """Prometheus text format."""
        return Response(metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")

    return app
