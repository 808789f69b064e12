"""A live progress bar for a workflow running in this process, fed by ``workflow_events``.

Under the embedded default the run happens here (``dag.test``), so the listener's events reach the
in-process bus as the steps run: one line per step outcome, retries and rollbacks included.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

if TYPE_CHECKING:
    from airflow_provider_wfo.definition.models import WorkflowDefinition
    from airflow_provider_wfo.events.model import WorkflowEvent
    from airflow_provider_wfo.results import WorkflowResult


class ProgressView:
    """A progress bar over the forward steps, fed by ``workflow_events`` (the run is in this process)."""

    def __init__(self, console: Console, step_names: dict[str, str]) -> None:
        self.console = console
        self.names = step_names
        self.done: set[str] = set()
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self.task = self.progress.add_task("starting", total=len(step_names))

    def _name(self, event: WorkflowEvent) -> str:
        return event.step_name or self.names.get(event.step_id or "", event.step_id or "?")

    def handle(self, event: WorkflowEvent) -> None:
        kind = event.type.value
        name = self._name(event)
        rollback = event.phase is not None and event.phase.value == "rollback"
        if kind == "step:started" and not rollback:
            self.progress.update(self.task, description=f"{name} ...")
        elif kind == "step:completed" and not rollback:
            self.console.print(
                f"  [green]✓[/] {name}" + (f"  ({event.duration} ms)" if event.duration else "")
            )
            self._advance(event.step_id)
        elif kind == "step:retrying":
            self.console.print(
                f"  [yellow]↻[/] {name}: attempt {event.attempt} failed, Airflow retries it: {event.error}"
            )
        elif kind == "step:failed" and not rollback:
            self.console.print(f"  [red]✗[/] {name}: {event.error}")
            self._advance(event.step_id)
        elif kind == "step:skipped" and not rollback:
            self.console.print(f"  [dim]- {name}: skipped[/]")
            self._advance(event.step_id)
        elif kind == "rollback:started":
            self.progress.update(self.task, description="rolling back")
            self.console.print("  [magenta]⟲ rollback started[/]: undoing the completed steps")
        elif kind == "step:rolled_back" or (rollback and kind == "step:completed"):
            self.console.print(f"  [magenta]⟲[/] {name}: undone")
        elif rollback and kind == "step:failed":
            self.console.print(f"  [red]⟲ {name}: rollback failed: {event.error}[/]")
        elif kind == "workflow:progress" and event.progress is not None:
            self.progress.update(
                self.task, completed=event.progress.completed_steps + event.progress.failed_steps
            )

    def _advance(self, step_id: str | None) -> None:
        if step_id and step_id not in self.done:
            self.done.add(step_id)
            self.progress.update(self.task, completed=len(self.done))

    def finish(self, result: WorkflowResult) -> None:
        self.progress.update(self.task, completed=len(self.names), description=result.status.value)
        self.progress.stop()


@contextlib.contextmanager
def show_progress(defn: WorkflowDefinition, console: Console | None = None) -> Iterator[ProgressView]:
    """Show the progress of ``defn``'s next run in this process; call ``view.finish(result)`` at the end."""
    from airflow_provider_wfo.events.bus import workflow_events

    view = ProgressView(
        console or Console(file=sys.stderr, highlight=False),
        {step.id: step.display_name for step in defn.steps},
    )
    workflow_events.on("*", view.handle)
    view.progress.start()
    try:
        yield view
    finally:
        workflow_events.off("*", view.handle)
        view.progress.stop()
