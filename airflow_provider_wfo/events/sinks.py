"""Event sinks: where events go in every Airflow process, configured rather than registered by hand.

Configuration (any process: scheduler, worker, api-server, ``dag.test``)::

    [wfo]
    event_sinks = log,jsonl:/var/log/wfo/events.jsonl,webhook:https://hooks.example.com/wfo

or ``AIRFLOW__WFO__EVENT_SINKS``. Unset means ``log``; ``none`` means no sink. Third-party sinks
come from the entry point group ``airflow_provider_wfo.event_sinks``: ``name = module:factory``
where ``factory(arg: str) -> EventSink``; use them as ``name`` or ``name:arg``.

Slow sinks (the webhook) sit behind a bounded queue drained by a daemon thread: a full queue
drops the event (counted and logged), so a slow or dead endpoint never slows or fails a task.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import queue
import threading
import time
import urllib.request
from collections.abc import Callable
from importlib.metadata import entry_points
from pathlib import Path
from typing import Protocol, runtime_checkable

from airflow_provider_wfo.events.model import WorkflowEvent

log = logging.getLogger("airflow_provider_wfo.events")

ENTRY_POINT_GROUP = "airflow_provider_wfo.event_sinks"
CONFIG_SECTION = "wfo"
CONFIG_KEY = "event_sinks"
ENV_VAR = "AIRFLOW__WFO__EVENT_SINKS"
DEFAULT_SPEC = "log"


@runtime_checkable
class EventSink(Protocol):
    def send(self, event: WorkflowEvent) -> None: ...

    def close(self, timeout: float = 5.0) -> None: ...


class LogSink:
    """One structured log line per event (logger ``airflow_provider_wfo.events``, JSON in ``extra``)."""

    def __init__(self, logger: logging.Logger | None = None, level: int = logging.INFO) -> None:
        self.logger = logger or log
        self.level = level

    def send(self, event: WorkflowEvent) -> None:
        data = event.to_json_dict()
        self.logger.log(
            self.level,
            "wfo event %s %s",
            event.type.value,
            json.dumps(data, sort_keys=True),
            extra={"wfo_event": data},
        )

    def close(self, timeout: float = 5.0) -> None:
        return None


class JsonLinesSink:
    """Appends one JSON object per line. One ``write`` per event under O_APPEND keeps lines whole
    when several processes of one machine share the file."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path).expanduser()
        self._lock = threading.Lock()

    def send(self, event: WorkflowEvent) -> None:
        line = (json.dumps(event.to_json_dict(), sort_keys=True) + "\n").encode()
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, line)
            finally:
                os.close(fd)

    def close(self, timeout: float = 5.0) -> None:
        return None


class QueuedSink:
    """Runs ``inner`` on a daemon thread behind a bounded queue; ``send`` never blocks."""

    def __init__(self, inner: EventSink, maxsize: int = 1000, name: str = "wfo-sink") -> None:
        self.inner = inner
        self.queue: queue.Queue[WorkflowEvent | None] = queue.Queue(maxsize=maxsize)
        self.dropped = 0
        self._thread = threading.Thread(target=self._drain, name=name, daemon=True)
        self._thread.start()

    def send(self, event: WorkflowEvent) -> None:
        try:
            self.queue.put_nowait(event)
        except queue.Full:
            self.dropped += 1
            log.warning(
                "wfo event sink %r queue full: dropped %s (%d dropped so far)",
                self.inner,
                event.type.value,
                self.dropped,
            )

    def _drain(self) -> None:
        while True:
            event = self.queue.get()
            try:
                if event is None:
                    return
                self.inner.send(event)
            except Exception as exc:
                # An unreachable endpoint is an expected condition, not a bug: one line, no traceback.
                log.warning(
                    "wfo event sink %r failed; event %s lost: %s",
                    self.inner,
                    event.type.value if event else None,
                    exc,
                )
            finally:
                self.queue.task_done()

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until the queue is empty, at most ``timeout`` seconds. True when everything was handled."""
        deadline = time.monotonic() + timeout
        while self.queue.unfinished_tasks:
            if time.monotonic() >= deadline or not self._thread.is_alive():
                return False
            time.sleep(0.01)
        return True

    def close(self, timeout: float = 5.0) -> None:
        if not self.flush(timeout):
            log.warning(
                "wfo event sink %r: %d events not delivered before shutdown",
                self.inner,
                self.queue.unfinished_tasks,
            )
        with contextlib.suppress(queue.Full):
            self.queue.put_nowait(None)


class WebhookSink:
    """POSTs each event as JSON. Retries connection errors and 5xx/429 with exponential backoff."""

    def __init__(self, url: str, retries: int = 3, backoff: float = 0.2, timeout: float = 5.0) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"webhook sink URL must be http(s): {url!r}")
        self.url = url
        self.retries = retries
        self.backoff = backoff
        self.timeout = timeout

    def __repr__(self) -> str:
        # The URL may hold a token (Slack-style webhooks): never print it.
        return "WebhookSink(<url hidden>)"

    def send(self, event: WorkflowEvent) -> None:
        body = json.dumps(event.to_json_dict()).encode()
        last: Exception | None = None
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff * (2 ** (attempt - 1)))
            request = urllib.request.Request(  # noqa: S310 (scheme checked in __init__)
                self.url,
                data=body,
                method="POST",
                headers={"Content-Type": "application/json", "User-Agent": "airflow-provider-wfo"},
            )
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                    response.read()
                return
            except urllib.error.HTTPError as exc:
                last = exc
                if exc.code < 500 and exc.code != 429:
                    break
            except (OSError, ValueError) as exc:
                last = exc
        raise RuntimeError(f"webhook delivery of {event.type.value} failed: {type(last).__name__}: {last}")

    def close(self, timeout: float = 5.0) -> None:
        return None


SinkFactory = Callable[[str], EventSink]


def _builtin_factories() -> dict[str, SinkFactory]:
    return {
        "log": lambda arg: LogSink(),
        "jsonl": lambda arg: JsonLinesSink(arg),
        "webhook": lambda arg: QueuedSink(WebhookSink(arg), name="wfo-webhook-sink"),
    }


def _entry_point_factories() -> dict[str, SinkFactory]:
    found: dict[str, SinkFactory] = {}
    try:
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            try:
                found[ep.name] = ep.load()
            except Exception:
                log.exception("wfo event sink entry point %s could not be loaded", ep.name)
    except Exception:
        log.exception("wfo event sink entry points could not be listed")
    return found


def configured_spec() -> str:
    if ENV_VAR in os.environ:
        return os.environ[ENV_VAR]
    try:
        from airflow.configuration import conf

        value = conf.get(CONFIG_SECTION, CONFIG_KEY, fallback=None)
    except Exception:
        value = None
    return DEFAULT_SPEC if value is None else str(value)


def parse_spec(spec: str) -> list[tuple[str, str]]:
    """``"log,jsonl:/p,webhook:http://h/x"`` -> [("log", ""), ("jsonl", "/p"), ("webhook", "http://h/x")]."""
    items: list[tuple[str, str]] = []
    for raw in spec.split(","):
        item = raw.strip()
        if not item or item.lower() == "none":
            continue
        name, _, arg = item.partition(":")
        items.append((name.strip().lower(), arg.strip()))
    return items


def build_sinks(spec: str) -> list[EventSink]:
    factories = {**_entry_point_factories(), **_builtin_factories()}
    sinks: list[EventSink] = []
    for name, arg in parse_spec(spec):
        factory = factories.get(name)
        if factory is None:
            log.error("wfo: unknown event sink %r (known: %s); ignored", name, ", ".join(sorted(factories)))
            continue
        try:
            sinks.append(factory(arg))
        except Exception:
            log.exception("wfo: event sink %r could not be created; ignored", name)
    return sinks


class SinkRegistry:
    """The configured sinks of this process. Rebuilt after a fork (threads do not survive one)
    and when the configuration changes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._spec: str | None = None
        self._sinks: list[EventSink] = []
        self._atexit_registered_pid: int | None = None

    def sinks(self) -> list[EventSink]:
        spec = configured_spec()
        with self._lock:
            if self._pid != os.getpid() or spec != self._spec:
                if self._pid == os.getpid():
                    self._close_locked(timeout=1.0)
                self._sinks = build_sinks(spec)
                self._pid, self._spec = os.getpid(), spec
                if self._atexit_registered_pid != os.getpid():
                    atexit.register(self.flush)
                    self._atexit_registered_pid = os.getpid()
            return list(self._sinks)

    def deliver(self, event: WorkflowEvent) -> None:
        for sink in self.sinks():
            try:
                sink.send(event)
            except Exception:
                log.exception(
                    "wfo event sink %r failed on %s; the workflow is not affected", sink, event.type.value
                )

    def flush(self, timeout: float = 5.0) -> None:
        """Give queued sinks up to ``timeout`` seconds (in total) to deliver; called before a task exits."""
        with self._lock:
            if self._pid != os.getpid():
                return
            sinks = list(self._sinks)
        deadline = time.monotonic() + timeout
        for sink in sinks:
            if isinstance(sink, QueuedSink):
                sink.flush(max(0.0, deadline - time.monotonic()))

    def _close_locked(self, timeout: float) -> None:
        for sink in self._sinks:
            try:
                sink.close(timeout)
            except Exception:
                log.exception("wfo event sink %r failed to close", sink)
        self._sinks = []

    def reset(self) -> None:
        with self._lock:
            if self._pid == os.getpid():
                self._close_locked(timeout=1.0)
            self._pid = None
            self._spec = None


sink_registry = SinkRegistry()


def flush_timeout() -> float:
    raw = os.environ.get("AIRFLOW__WFO__EVENT_SINK_FLUSH_TIMEOUT")
    if raw is None:
        try:
            from airflow.configuration import conf

            raw = conf.get(CONFIG_SECTION, "event_sink_flush_timeout", fallback="2")
        except Exception:
            raw = "2"
    try:
        return float(raw or 2)
    except ValueError:
        return 2.0
