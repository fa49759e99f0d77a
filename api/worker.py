"""Matching runs executed off the request: a small thread pool started with
the app. A request queues a run and returns at once; a worker thread calls
:func:`symbiose.services.runs.execute_run`, which moves it to ``running``,
then ``done`` or ``failed``. Runs left ``queued`` or ``running`` by a stopped
server are marked ``failed`` at the next start (``fail_interrupted_runs``),
so this assumes one server process per database."""

from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor

from symbiose.services.runs import execute_run

log = logging.getLogger("symbiose.api.worker")


class RunWorker:
    """Executes queued runs in ``threads`` background threads."""

    def __init__(self, database_url: str, threads: int = 1):
        self.database_url = database_url
        self._pool = ThreadPoolExecutor(max_workers=max(1, threads), thread_name_prefix="symbiose-run")

    def submit(self, run_id: int) -> Future:
        """Queue ``run_id`` for execution; returns at once."""
        return self._pool.submit(self._execute, run_id)

    def submit_region(self, run_id: int) -> Future:
        """Queue the region run ``run_id``; returns at once."""
        from symbiose.services.regions import execute_region_run

        return self._pool.submit(execute_region_run, self.database_url, run_id)

    def _execute(self, run_id: int) -> None:
        try:
            execute_run(self.database_url, run_id)
        except Exception:  # noqa: BLE001 - execute_run records failures itself; this only keeps the pool alive
            log.exception("run %s could not be executed", run_id)

    def shutdown(self, wait: bool = False) -> None:
        """Stop taking runs; runs still queued are failed at the next start."""
        self._pool.shutdown(wait=wait, cancel_futures=True)
