"""Prometheus metrics of one service instance (its own registry, so tests can run several)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["MetricsMiddleware", "ServiceMetrics"]


@dataclass
class ServiceMetrics:
    """The counters, gauges and histograms ``/metrics`` exposes."""

    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self.http_requests = Counter(
            "dicomscrub_http_requests_total",
            "HTTP requests answered, by method, route and status code.",
            ["method", "route", "status"],
            registry=r,
        )
        self.http_latency = Histogram(
            "dicomscrub_http_request_duration_seconds",
            "Time to answer an HTTP request (long-polls included), by route.",
            ["route"],
            registry=r,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
        )
        self.jobs_submitted = Counter(
            "dicomscrub_jobs_submitted_total", "Jobs accepted.", registry=r
        )
        self.jobs_finished = Counter(
            "dicomscrub_jobs_finished_total",
            "Jobs that ended, by final state.",
            ["state"],
            registry=r,
        )
        self.files = Counter(
            "dicomscrub_files_total",
            "Input files of finished job runs, by outcome.",
            ["status"],
            registry=r,
        )
        self.jobs_running = Gauge(
            "dicomscrub_jobs_running", "Jobs running in worker processes now.", registry=r
        )
        self.job_duration = Histogram(
            "dicomscrub_job_duration_seconds",
            "Wall time of one job run in its worker process.",
            registry=r,
            buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600),
        )
        self.job_restarts = Counter(
            "dicomscrub_job_restarts_total",
            "Job runs interrupted (worker died or server stopped) and queued again.",
            registry=r,
        )

    def render(self) -> bytes:
        """The text exposition format."""
        return bytes(generate_latest(self.registry))


class MetricsMiddleware:
    """Counts and times every HTTP request by its route template (not its raw path)."""

    def __init__(self, app: ASGIApp, metrics: ServiceMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            # The template keeps the label set small: one series per endpoint, not per job.
            name = getattr(route, "path", "unmatched")
            self.metrics.http_requests.labels(scope["method"], name, str(status)).inc()
            self.metrics.http_latency.labels(name).observe(time.perf_counter() - start)
