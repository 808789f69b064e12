"""``wfo run FILE [--conf JSON] [--json]``: run a workflow locally through its real Airflow DAG.

The run happens in this process with ``dag.test`` on the embedded default (``<repo>/.airflow`` with
SQLite unless ``WFO_HOME``/``AIRFLOW_HOME`` say otherwise). Airflow's own output goes to a log file
under ``$AIRFLOW_HOME/wfo/logs/`` so the terminal shows a progress bar and then a summary.
Exit code: 0 when the workflow COMPLETED, 1 otherwise.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

from airflow_provider_wfo.cli.common import error, make_console


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "run",
        help="run a workflow locally (in-process Airflow, SQLite)",
        description="Run a workflow definition through its generated Airflow DAG in this process "
        "(dag.test on the embedded default: <repo>/.airflow with SQLite, migrated when needed). "
        "Shows live progress, then a summary. Exit code 0 when the workflow COMPLETED, else 1.",
    )
    parser.add_argument("file", metavar="FILE", help="workflow definition (.json, .yaml, .yml)")
    parser.add_argument(
        "--conf",
        metavar="JSON",
        default=None,
        help="initial context (run conf) as a JSON object, or @file.json",
    )
    parser.add_argument("--json", action="store_true", help="print the WorkflowResult as JSON")
    parser.add_argument("--no-progress", action="store_true", help="no live progress bar")
    parser.add_argument(
        "--approve",
        metavar="STEP[:COMMENT]",
        action="append",
        help="approve the approval step STEP when it asks (repeatable)",
    )
    parser.add_argument(
        "--reject",
        metavar="STEP[:REASON]",
        action="append",
        help="reject the approval step STEP when it asks (repeatable); the saga rolls back",
    )
    parser.set_defaults(handler=run)


def _conf(value: str | None) -> dict[str, Any]:
    """``--conf`` under the loader's limits (definition/conf.py): size, nesting, no NaN."""
    from airflow_provider_wfo.definition.conf import parse_conf_text
    from airflow_provider_wfo.definition.rules import MAX_CONF_BYTES

    if not value:
        return {}
    if value.startswith("@"):
        path = Path(value[1:])
        if path.is_file() and path.stat().st_size > MAX_CONF_BYTES:
            raise ValueError(f"--conf {value}: run conf may hold at most {MAX_CONF_BYTES:,} bytes")
        text = path.read_text(encoding="utf-8")
    else:
        text = value
    return parse_conf_text(text, "--conf")


def _fail(args: argparse.Namespace, message: str, code: int, issues: list[Any] | None = None) -> int:
    """An error before the run: JSON on stdout with ``--json`` (scripts parse it), else stderr."""
    if not args.json:
        return error(message, code)
    payload: dict[str, Any] = {"success": False, "error": message}
    if issues is not None:
        payload["errors"] = [
            {"file": args.file, "location": i.location, "message": i.message} for i in issues
        ]
    sys.stdout.write(json.dumps(payload, indent=2) + "\n")
    return code


@contextlib.contextmanager
def _airflow_output_to(log_path: Path) -> Iterator[tuple[IO[str], IO[str]]]:
    """Send fd 1 and 2 (Airflow's logs, task output) to ``log_path``; yield the real stdout/stderr."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved_out, saved_err = os.dup(1), os.dup(2)
    real_out = os.fdopen(os.dup(saved_out), "w", buffering=1, encoding="utf-8")
    real_err = os.fdopen(os.dup(saved_err), "w", buffering=1, encoding="utf-8")
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("a", encoding="utf-8") as log_file:
        os.dup2(log_file.fileno(), 1)
        os.dup2(log_file.fileno(), 2)
        # Python-level writers too (sys.stdout may not be fd 1, e.g. under pytest's capture).
        saved_sys = sys.stdout, sys.stderr
        sys.stdout = sys.stderr = log_file
        try:
            yield real_out, real_err
        finally:
            sys.stdout, sys.stderr = saved_sys
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved_out, 1)
            os.dup2(saved_err, 2)
            os.close(saved_out)
            os.close(saved_err)
            real_out.flush()
            real_err.flush()


def run(args: argparse.Namespace) -> int:
    from airflow_provider_wfo.definition.errors import DefinitionError
    from airflow_provider_wfo.definition.loading import load_definition_file
    from airflow_provider_wfo.local.answers import parse_answers
    from airflow_provider_wfo.local.environment import prepare_environment

    try:
        conf = _conf(args.conf)
        answers = parse_answers(args.approve, args.reject)
    except (ValueError, OSError) as exc:
        return _fail(args, str(exc), 2)
    try:
        defn = load_definition_file(args.file)
    except DefinitionError as exc:
        if not args.json:
            raise  # printed as file: location: message lines by the CLI's main
        count = len(exc.issues)
        return _fail(args, f"invalid workflow definition: {count} problem{'s' * (count != 1)}", 1, exc.issues)
    from airflow_provider_wfo.definition.conf import ConfError, check_conf_keys

    try:
        check_conf_keys(conf, defn.params, "--conf")
    except ConfError as exc:
        return _fail(args, str(exc), 2)
    approvals = {s.id for s in defn.steps if s.target == "approval"}
    unknown = sorted(set(answers) - approvals)
    if unknown:
        known = ", ".join(sorted(approvals)) or "none"
        return _fail(
            args,
            f"{', '.join(unknown)}: not an approval step of {defn.id!r} (its approval steps: {known})",
            2,
        )
    env = prepare_environment()
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    log_path = env.home / "wfo" / "logs" / f"{defn.id}-{stamp}.log"

    with _airflow_output_to(log_path) as (real_out, real_err):
        out = make_console(file=real_out)
        err = make_console(file=real_err)
        show_progress = not args.no_progress and (err if args.json else out).is_terminal
        progress_console = err if args.json else out
        try:
            outcome = _run_with_progress(args.file, defn, conf, answers, progress_console, show_progress)
        except Exception as exc:
            message = f"the run did not complete: {type(exc).__name__}: {exc}"
            if args.json:
                payload = {"success": False, "error": message, "log": str(log_path)}
                out.print(json.dumps(payload, indent=2), markup=False, highlight=False)
                return 2
            err.print(f"wfo: error: {message}", markup=False)
            err.print(f"Airflow log: {log_path}", markup=False)
            return 2
        if args.json:
            out.print(json.dumps(outcome.result.to_json_dict(), indent=2), markup=False, highlight=False)
        else:
            from airflow_provider_wfo.local.summary import render_summary

            render_summary(out, outcome, log_path)
    return 0 if outcome.result.success else 1


def _with_note(name: str, note: str | None) -> str:
    return f"{name} ({note})" if note else name


def _progress_bar(console: Any) -> Any:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    return Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.fields[title]}[/bold]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


def _describe(snapshot: Any, names: dict[str, str]) -> str:
    """The progress line's text for one snapshot of the run (``local/progress.Snapshot``)."""
    from airflow_provider_wfo.saga.names import is_compensation_task_id, step_id_of

    running = [t for t in snapshot.running if t in names]
    if snapshot.phase == "compensating":
        undo = [step_id_of(t) for t in snapshot.running if is_compensation_task_id(t)]
        return "rolling back: " + ", ".join(names.get(u, u) for u in undo)
    if snapshot.phase == "deciding":
        return "saga decision"
    if snapshot.phase in ("result", "done"):
        return "assembling the result"
    if running:
        return "running: " + ", ".join(_with_note(names[t], snapshot.notes.get(t)) for t in running)
    return "scheduling"


def _run_with_progress(
    source: str, defn: Any, conf: dict[str, Any], answers: dict[str, Any], console: Any, show: bool
) -> Any:
    from airflow_provider_wfo.local.runner import run_workflow, sibling_definitions

    workflows = sibling_definitions(source, defn)
    if not show:
        return run_workflow(defn, conf, answers=answers, workflows=workflows)

    from rich.markup import escape

    from airflow_provider_wfo.factory.plan import plan_for
    from airflow_provider_wfo.local.progress import RunWatcher, Snapshot, prepare_main_thread

    # The progress columns read markup: names are the author's text, never markup.
    names = {s.id: escape(s.display_name) for s in defn.steps}
    plan = plan_for(defn)
    progress = _progress_bar(console)
    task = progress.add_task("starting Airflow...", total=len(plan.order), title=escape(defn.name))
    watcher: list[RunWatcher] = []

    def on_snapshot(snapshot: Snapshot) -> None:
        progress.update(task, completed=snapshot.finished_steps, description=_describe(snapshot, names))

    def on_started(dag_id: str) -> None:
        # The watcher polls the run's DB rows from a thread; the run itself stays on this thread.
        progress.update(task, description="creating the run")
        prepare_main_thread()
        w = RunWatcher(dag_id, plan, started_at, on_snapshot)
        watcher.append(w)
        w.start()

    started_at = datetime.now(timezone.utc)
    with progress:
        try:
            outcome = run_workflow(defn, conf, on_started=on_started, answers=answers, workflows=workflows)
        finally:
            for w in watcher:
                w.stop()
                w.join(timeout=2)
        final = outcome.result.progress
        progress.update(task, completed=final.current_step, description=outcome.result.status.value)
    return outcome
