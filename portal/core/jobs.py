"""Periodic jobs: each domain registers its own, and the worker runs them, each in its own unit of work.

A job is a function of no arguments that returns a dict of counts (printed by the worker); it must be
idempotent, because a round that fails is simply run again by the next one.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from portal.core.transaction import unit_of_work
from portal.extensions import db

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    name: str
    run: Callable[[], dict]
    order: int  # lower runs first: jobs that queue messages run before the outbox sends them


_jobs: dict[str, Job] = {}


def register(name: str, run: Callable[[], dict], order: int = 50) -> Callable[[], dict]:
    """Add `run` to every round of the worker under `name` (registering the same name again replaces it)."""
    _jobs[name] = Job(name, run, order)
    return run


def registered() -> list[Job]:
    return sorted(_jobs.values(), key=lambda job: (job.order, job.name))


def run_round() -> dict[str, dict | str]:
    """Run every registered job once, in order; one job's failure does not stop the others."""
    results: dict[str, dict | str] = {}
    for job in registered():
        try:
            with unit_of_work():
                results[job.name] = job.run() or {}
        except Exception:  # logged with its traceback; the next round retries
            log.exception("job %s failed", job.name)
            results[job.name] = "failed"
        finally:
            db.session.remove()
    return results
