"""A time budget for reading one definition, nested inside Airflow's own per-file import timeout.

The dag-processor imports a loader file under ``[core] dagbag_import_timeout`` (an ``ITIMER_REAL``
alarm). When that alarm fires, the whole file fails and Airflow marks *every* DAG of the file stale.
So the loader gives each definition its own, shorter alarm, and stops starting new definitions
before the file's alarm can fire: a slow definition costs only itself, and the ones not reached are
reported (as placeholders) instead of taking the loaded ones down with them.

Signals only work in the main thread; elsewhere (a test calling the loader from a thread) the budget
is not enforced.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Iterator
from types import FrameType

#: Left for Airflow after the last definition: building placeholders and returning from the import.
FILE_MARGIN_S = 2.0


class DefinitionTimeout(Exception):
    """A definition took longer than its budget."""


def _usable() -> bool:
    return threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer")


def file_time_left() -> float | None:
    """Seconds left before Airflow's import alarm fires, less the margin; None when no alarm is set."""
    if not _usable():
        return None
    remaining, _ = signal.getitimer(signal.ITIMER_REAL)
    if remaining <= 0:
        return None
    return remaining - FILE_MARGIN_S


@contextlib.contextmanager
def time_budget(seconds: float) -> Iterator[float]:
    """Raise :class:`DefinitionTimeout` in the body after ``seconds`` (or sooner, when Airflow's file
    alarm is closer). Yields the budget actually given. Airflow's alarm is put back afterwards with
    what is left of it, so the nesting never extends the file's timeout."""
    if seconds <= 0 or not _usable():
        yield seconds
        return
    outer_left, outer_interval = signal.getitimer(signal.ITIMER_REAL)
    outer_handler = signal.getsignal(signal.SIGALRM)
    given = seconds if outer_left <= 0 else max(0.001, min(seconds, outer_left - FILE_MARGIN_S))
    started = time.monotonic()

    def _expired(signum: int, frame: FrameType | None) -> None:
        raise DefinitionTimeout(f"took longer than {given:.1f} s")

    signal.signal(signal.SIGALRM, _expired)
    signal.setitimer(signal.ITIMER_REAL, given)
    try:
        yield given
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, outer_handler)
        if outer_left > 0:
            left = outer_left - (time.monotonic() - started)
            signal.setitimer(signal.ITIMER_REAL, max(left, 0.001), outer_interval)
