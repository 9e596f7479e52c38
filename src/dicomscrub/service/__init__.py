"""The HTTP job service (``dicomscrub serve``): FastAPI routes over the batch engine.

Modules, one job each: ``settings`` (flags, env, TOML), ``db`` (tables, migrations at
start), ``auth`` (API keys), ``vault`` (sealed credentials), ``job_store`` and
``integration_store`` (database access), ``schemas`` (request and response bodies),
``http_errors`` (the one error shape), ``events`` (long-poll wake-ups), ``dispatcher``
(the thread that feeds jobs to worker processes), ``execution`` (what a worker process
does with one job), ``metrics`` (Prometheus), ``routes_*`` and ``app`` (the factory).

Import :func:`dicomscrub.service.app.create_app` to embed the app; this package needs the
``service`` extra (``pip install 'dicomscrub[service]'``).
"""
