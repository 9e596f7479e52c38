"""Wake long-polling requests the moment their job ends.

Job ends are reported from other threads (the dispatcher's); waiters live on the event
loop. :meth:`JobEvents.notify` hops onto the loop with ``call_soon_threadsafe``, so a
request never polls the database in a tight loop and never blocks a thread while waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

__all__ = ["JobEvents"]


class JobEvents:
    """One-shot wake-ups per job id, for coroutines on one event loop."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._waiters: dict[str, set[asyncio.Future[None]]] = {}

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Attach to the loop the web server runs on."""
        self._loop = loop

    def notify(self, job_id: str) -> None:
        """Wake everyone waiting for ``job_id`` (callable from any thread)."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._wake, job_id)

    def _wake(self, job_id: str) -> None:
        for future in self._waiters.pop(job_id, set()):
            if not future.done():
                future.set_result(None)

    @contextlib.contextmanager
    def waiter(self, job_id: str) -> Iterator[asyncio.Future[None]]:
        """A future resolved at the next notify of ``job_id``.

        Register *before* reading the job's state, so an end that happens in between
        is not missed.
        """
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(job_id, set()).add(future)
        try:
            yield future
        finally:
            waiting = self._waiters.get(job_id)
            if waiting is not None:
                waiting.discard(future)
                if not waiting:
                    del self._waiters[job_id]
