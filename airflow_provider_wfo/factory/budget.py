"""A time budget for reading one definition, nested inside Airflow's own per-file import timeout.

The dag-processor imports a loader file under ``[core] dagbag_import_timeout`` (an ``ITIMER_REAL``
alarm). When that alarm fires, the whole file fails and Airflow marks *every* DAG of the file stale.
So the loader gives each definition its own, shorter alarm, and stops starting new definitions
before the file's alarm can fire: a slow definition costs only itself, and the ones not reached are
reported (as placeholders) instead of taking the loaded ones down with them.

The import is not the whole of a parse. After it, the same process serializes every DAG the file
built, about as long again as building them (bench/dagprocessor.py: 7.6 s against 7.0 s of CPU for
1,000 ten-step definitions), and the dag-processor kills a parse process that runs past
``[dag_processor] dag_file_processor_timeout`` (50 s) with nothing of the file written. So the loader
also stops starting definitions once :data:`BUILD_SHARE` of that timeout has gone since Airflow set
its import alarm: a file that builds for 28 s and then serializes for 28 s would lose everything.

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
#: Share of ``dag_file_processor_timeout`` the loader may spend building; the rest is for Airflow's
#: serialization of what was built (measured about as long as the build) and sending it.
BUILD_SHARE = 0.45


class DefinitionTimeout(Exception):
    """A definition took longer than its budget."""


def _usable() -> bool:
    return threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer")


def airflow_timeouts() -> tuple[float, float]:
    """``([core] dagbag_import_timeout, [dag_processor] dag_file_processor_timeout)`` in seconds."""
    from airflow.configuration import conf

    return (
        conf.getfloat("core", "dagbag_import_timeout", fallback=30.0),
        conf.getfloat("dag_processor", "dag_file_processor_timeout", fallback=50.0),
    )


def file_deadline(timeouts: tuple[float, float] | None = None) -> float | None:
    """The ``time.monotonic()`` after which the loader starts no new definition; None when Airflow set
    no import alarm (not parsed by Airflow, or not in the main thread). The earlier of Airflow's
    import alarm less :data:`FILE_MARGIN_S` and :data:`BUILD_SHARE` of the processor timeout counted
    from when the alarm was set (it is set to ``dagbag_import_timeout`` just before the import)."""
    if not _usable():
        return None
    remaining, _ = signal.getitimer(signal.ITIMER_REAL)
    if remaining <= 0:
        return None
    import_timeout, processor_timeout = timeouts or airflow_timeouts()
    spent = max(0.0, import_timeout - remaining)
    left = min(remaining - FILE_MARGIN_S, BUILD_SHARE * processor_timeout - spent)
    return time.monotonic() + left


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
