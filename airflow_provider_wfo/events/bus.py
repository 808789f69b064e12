"""``workflow_events``: the in-process event bus (``workflow_events.on(type, handler)``).

Handlers run synchronously in the process that produced the event (the Airflow worker for step
events, the scheduler for run events; everything under ``dag.test``). A handler that raises is
logged and never reaches the workflow.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from airflow_provider_wfo.events.model import WorkflowEvent, WorkflowEventType

log = logging.getLogger(__name__)

Handler = Callable[[WorkflowEvent], Any]
#: ``"*"`` subscribes to every event type.
ANY = "*"


def _key(event_type: WorkflowEventType | str) -> str:
    if isinstance(event_type, WorkflowEventType):
        return event_type.value
    if event_type == ANY:
        return ANY
    return WorkflowEventType(event_type).value


class WorkflowEventBus:
    def __init__(self) -> None:
        self._handlers: dict[str, list[Handler]] = {}
        self._lock = threading.Lock()

    def on(self, event_type: WorkflowEventType | str, handler: Handler) -> Handler:
        """Subscribe ``handler`` to ``event_type`` (or ``"*"``); returns the handler (usable as decorator)."""
        key = _key(event_type)
        with self._lock:
            self._handlers.setdefault(key, []).append(handler)
        return handler

    def once(self, event_type: WorkflowEventType | str, handler: Handler) -> Handler:
        def wrapper(event: WorkflowEvent) -> Any:
            self.off(event_type, wrapper)
            return handler(event)

        return self.on(event_type, wrapper)

    def off(self, event_type: WorkflowEventType | str, handler: Handler | None = None) -> None:
        """Unsubscribe ``handler`` (or every handler of ``event_type`` when None)."""
        key = _key(event_type)
        with self._lock:
            if handler is None:
                self._handlers.pop(key, None)
                return
            handlers = self._handlers.get(key, [])
            if handler in handlers:
                handlers.remove(handler)

    def clear(self) -> None:
        with self._lock:
            self._handlers.clear()

    def emit(self, event: WorkflowEvent) -> None:
        """Deliver ``event`` to its type's handlers, then to ``"*"`` handlers. Never raises."""
        with self._lock:
            handlers = [*self._handlers.get(event.type.value, []), *self._handlers.get(ANY, [])]
        for handler in handlers:
            try:
                handler(event)
            except Exception:
                log.exception(
                    "wfo event handler %r failed on %s; the workflow is not affected",
                    handler,
                    event.type.value,
                )


workflow_events = WorkflowEventBus()
