"""The main job: ``scripts/demo`` (this module) shows the product working on a fresh machine.

``scripts/demo``         prepares the embedded default (project-local AIRFLOW_HOME ``<repo>/.airflow``,
                         SQLite, local ``wfo_*`` connections to the workspace folder), runs the invoice
                         workflow on ``examples/sample-invoice.pdf`` with a progress bar, and shows where
                         the filed document, the sheet row and the Slack message are.
``scripts/demo --fail``  the same invoice with a failure injected in a required step (the tracking
                         sheet refuses the row): Airflow retries it, gives up, and the saga deletes the
                         filed document; the demo shows it is gone.
``scripts/demo --ui``    starts Airflow (api-server, scheduler, dag-processor, triggerer; 127.0.0.1
                         only) with the package's DAGs (``dags/``) so workflows can be triggered
                         with conf from the UI's trigger form.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.panel import Panel
from rich.table import Table

if TYPE_CHECKING:
    from airflow_provider_wfo.actions.registry import ActionContext
    from airflow_provider_wfo.local.environment import LocalEnvironment
    from airflow_provider_wfo.results import WorkflowResult

SAMPLE = Path("examples") / "sample-invoice.pdf"
INVOICE = {
    "file_name": "Invoice-Acme-2025-001.pdf",
    "vendor": "Acme Corporation",
    "amount": 1500.00,
    "due_date": "2025-02-15",
    "spreadsheet_id": "invoice-tracking",
}
INJECTED = "Google Sheets answered 503 Service Unavailable (failure injected by scripts/demo --fail)"


def _repo_root() -> Path:
    here = Path(__file__).resolve()
    for folder in (Path.cwd().resolve(), *here.parents):
        if (folder / "pyproject.toml").exists() and (folder / "airflow_provider_wfo").is_dir():
            return folder
    return Path.cwd().resolve()


def _run_invoice(console: Console, root: Path, fail: bool) -> WorkflowResult:
    from airflow_provider_wfo.prebuilt.api import handle_invoice
    from airflow_provider_wfo.prebuilt.definitions import load_prebuilt
    from airflow_provider_wfo.prebuilt.progress import show_progress

    if fail:
        from airflow_provider_wfo.actions.registry import ActionError, register_action

        def refuse_row(params: dict[str, Any], ctx: ActionContext) -> dict[str, Any]:
            raise ActionError(INJECTED)

        register_action("sheets", "update_sheet", refuse_row)
    try:
        with show_progress(load_prebuilt("invoice"), console) as view:
            result = handle_invoice(file_path=root / SAMPLE, deployment="local", **INVOICE)  # type: ignore[arg-type]
            view.finish(result)
    finally:
        if fail:
            from airflow_provider_wfo.actions.registry import unregister_action

            unregister_action("sheets", "update_sheet")
    return result


def _steps_table(result: WorkflowResult) -> Table:
    table = Table(title=f"{result.workflow_name}: {result.status.value}", title_justify="left")
    table.add_column("step", no_wrap=True)
    for column in ("status", "attempts", "ms", "rolled back"):
        table.add_column(column, no_wrap=True)
    table.add_column("error", no_wrap=True, overflow="ellipsis", max_width=40)
    for step in result.steps:
        table.add_row(
            step.step_name,
            step.status.value,
            str(step.attempts),
            "" if step.duration is None else str(step.duration),
            "yes" if step.rolled_back else "",
            (step.error or "")[:60],
        )
    return table


def _last_message(outbox: Path, channel: str) -> tuple[int, dict[str, Any]] | None:
    if not outbox.exists():
        return None
    found: tuple[int, dict[str, Any]] | None = None
    for number, line in enumerate(outbox.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            message = json.loads(line)
            if message.get("channel") in (channel, f"#{channel}"):
                found = (number, message)
    return found


def _print_block(console: Console, title: str, lines: list[str]) -> None:
    # Paths and links are long: let the terminal wrap them rather than a box that breaks them up.
    console.rule(f"[bold]{title}", align="left")
    for line in lines:
        console.print(line, soft_wrap=True)
    console.rule()


def _show_commit(console: Console, result: WorkflowResult, workspace: Path) -> None:
    filed = result.step("file-drive").result
    row = result.step("update-sheet").result
    note = result.step("notify-accounting")
    pad = " " * 18
    lines: list[str] = [f"workspace: {workspace}", ""]
    if filed is not None:
        rel = filed.data.get("path") or f"drive/{filed.data['folder']}/{filed.data['name']}"
        lines.append(f"[bold]Filed document[/]    {rel}  ({filed.data.get('size')} bytes)")
        lines.append(f"{pad}link: {filed.data.get('webViewLink')}")
    if row is not None:
        rel_sheet = Path("sheets") / str(row.data["spreadsheetId"]) / f"{row.data['sheetName']}.csv"
        number = int(row.data.get("rowNumber") or 0)
        lines.append(f"[bold]Sheet row[/]         {rel_sheet}, row {number}:")
        sheet = workspace / rel_sheet
        if sheet.exists():
            with open(sheet, newline="", encoding="utf-8") as handle:
                rows = list(csv.reader(handle))
            if rows and number > 1:
                lines.append(pad + " | ".join(rows[0]))
            if rows and number >= 1:
                lines.append(pad + " | ".join(rows[min(number, len(rows)) - 1]))
    outbox = workspace / "slack" / "outbox.jsonl"
    if note.result is not None:
        found = _last_message(outbox, "accounting")
        where = f", line {found[0]}" if found else ""
        lines.append(f"[bold]Slack message[/]     {outbox.relative_to(workspace)}{where} (#accounting):")
        if found:
            text = str(found[1].get("text") or found[1].get("message") or "")
            lines.extend(pad + part for part in text.splitlines())
    else:
        lines.append(f"[bold]Slack message[/]     not sent: {note.status.value} {note.error or ''}")
    _print_block(console, "Where it went", lines)


def _show_rollback(console: Console, result: WorkflowResult, workspace: Path) -> None:
    filed = result.step("file-drive")
    lines = [
        f"[bold]Status[/]           {result.status.value} (rollbackPerformed={result.rollback_performed})",
        f"[bold]Failed step[/]      {result.failed_step}: {result.error}",
    ]
    if filed.result is not None:
        rel = filed.result.data.get("path") or Path(filed.result.data["folder"]) / filed.result.data["name"]
        path = workspace / str(rel)
        state = "[red]still there[/]" if path.exists() else "[green]gone[/]"
        lines.append(f"[bold]Filed document[/]   {path}")
        lines.append(f"                 filed by the first step, deleted by its rollback: {state}")
    lines.append("[bold]Sheet[/]            no row was added (the step that failed was the append)")
    lines.append("[bold]Slack[/]            nothing sent (the notification comes after the failed step)")
    _print_block(console, "Rolled back", lines)


@contextlib.contextmanager
def _airflow_output_to(log_path: Path) -> Iterator[None]:
    """Send what Airflow writes to fd 1 and 2 (task logs, tracebacks of the injected failure, warnings)
    to ``log_path``; the demo's console keeps a duplicate of the terminal."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with open(log_path, "ab") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def _demo_run(console: Console, fail: bool) -> int:
    root = _repo_root()
    os.chdir(root)
    from airflow_provider_wfo.local.environment import prepare_environment

    env = prepare_environment()
    log_path = env.home / "logs" / "wfo-demo.log"
    with _airflow_output_to(log_path):
        code = _demo_steps(console, root, env, fail)
    console.print(f"[dim]Airflow's own output of this run: {log_path}[/]")
    return code


def _demo_steps(console: Console, root: Path, env: LocalEnvironment, fail: bool) -> int:
    from airflow_provider_wfo.local.environment import ensure_database

    console.print(
        Panel(
            "\n".join(
                [
                    f"AIRFLOW_HOME  {env.home}"
                    + ("   (project-local, git-ignored)" if env.home == root / ".airflow" else ""),
                    f"metadata DB   {env.database}",
                    f"dags folder   {env.dags_folder}",
                    f"workspace     {env.workspace}   (local Drive, Sheets, Slack, Trello, Notion)",
                ]
            ),
            title="Embedded default",
            expand=False,
        )
    )
    with console.status("Preparing the metadata database (the first run migrates SQLite, ~30 s) ..."):
        ensure_database()
    title = "Invoice workflow, with a failure injected in a required step" if fail else "Invoice workflow"
    console.print(f"\n[bold]{title}[/]: {SAMPLE} -> file in Drive -> tracking sheet row -> Slack #accounting")
    if fail:
        console.print(f"  (injected: the tracking sheet step fails: {INJECTED})")
    result = _run_invoice(console, root, fail)
    console.print(_steps_table(result))
    if fail:
        _show_rollback(console, result, env.workspace)
        ok = result.status.value == "ROLLED_BACK" and result.step("file-drive").rolled_back
    else:
        _show_commit(console, result, env.workspace)
        ok = result.success
        if ok:
            console.print(
                "Next: [bold]scripts/demo --fail[/] (the rollback), "
                "[bold]scripts/demo --ui[/] (the Airflow UI)"
            )
    return 0 if ok else 1


#: The components of ``scripts/demo --ui`` (what ``airflow standalone`` runs). Airflow's log servers
#: bind every interface (``uvicorn.run(host="")`` in ``airflow/utils/serve_logs/core.py``, no setting),
#: so they are not started: every component writes to the same local log folder, which the
#: api-server reads directly. The only port opened is the api-server's, on 127.0.0.1.
UI_COMPONENTS: tuple[tuple[str, ...], ...] = (
    ("api-server",),
    ("scheduler", "--skip-serve-logs"),
    ("dag-processor",),
    ("triggerer", "--skip-serve-logs"),
)


def ui_environment(root: Path, port: int) -> dict[str, str]:
    """The environment of the ``scripts/demo --ui`` components: the embedded default's home, DB and
    workspace, the repo's ``dags/`` (the four pre-built workflows and the examples), all-admin login,
    everything on 127.0.0.1:``port``."""
    import secrets

    from airflow_provider_wfo.local.environment import prepare_environment
    from airflow_provider_wfo.local.stack_settings import DROPIN_SETTINGS

    env_info = prepare_environment()
    env = dict(os.environ)
    env.update(
        {
            "AIRFLOW__CORE__DAGS_FOLDER": str(root / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__AUTH_MANAGER": (
                "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
            ),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
            # One secret for every component (tasks call the execution API with tokens it signs).
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
            "WFO_WORKSPACE": str(env_info.workspace),
            # The components run as `airflow ...`: make that this venv's.
            "PATH": os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]),
            **DROPIN_SETTINGS,
        }
    )
    return env


def stop_processes(procs: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM each process group, then SIGKILL what is left after 30 s (the tests' stacks use it too)."""
    for proc in procs:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + 30
    for proc in procs:
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def _demo_ui(console: Console, port: int) -> int:
    root = _repo_root()
    os.chdir(root)
    env = ui_environment(root, port)
    airflow = shutil.which("airflow", path=str(Path(sys.executable).parent)) or "airflow"
    logs = Path(env["AIRFLOW_HOME"]) / "logs" / "demo-ui"
    logs.mkdir(parents=True, exist_ok=True)
    with console.status("Preparing the metadata database (the first run migrates SQLite, ~30 s) ..."):
        migrate = subprocess.run(
            [airflow, "db", "migrate"], env=env, capture_output=True, text=True, check=False
        )
    if migrate.returncode != 0:
        console.print(f"[red]airflow db migrate failed[/]\n{migrate.stdout[-3000:]}{migrate.stderr[-3000:]}")
        return 1
    procs: list[subprocess.Popen[bytes]] = []
    # Each component runs in a session of its own (so that it and its children can be stopped as a
    # group); a SIGTERM to the demo must therefore stop them here, or they would outlive it.
    signal.signal(signal.SIGTERM, _terminated)
    try:
        for argv in UI_COMPONENTS:
            with (logs / f"{argv[0]}.log").open("ab") as out:
                procs.append(
                    subprocess.Popen(
                        [airflow, *argv],
                        env=env,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                )
        _ui_panel(console, root, port, env, logs)
        while all(proc.poll() is None for proc in procs):
            time.sleep(1)
        dead = [argv[0] for argv, proc in zip(UI_COMPONENTS, procs, strict=True) if proc.poll() is not None]
        console.print(f"[red]Airflow stopped: {', '.join(dead)} exited[/] (logs in {logs})")
        return 1
    except KeyboardInterrupt:
        console.print("Stopping Airflow ...")
        return 0
    finally:
        stop_processes(procs)


def _terminated(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _ui_panel(console: Console, root: Path, port: int, env: dict[str, str], logs: Path) -> None:
    console.print(
        Panel(
            "\n".join(
                [
                    f"Airflow UI      http://127.0.0.1:{port}   (no login: all-admins, local only)",
                    f"DAGs            {root / 'dags'}: wfo_invoice, wfo_bug_report, wfo_meeting, wfo_report,",
                    "                wfo_weekly_report (Mondays 08:00 UTC) and the examples",
                    f"Workspace       {env['WFO_WORKSPACE']}",
                    f"Airflow logs    {logs}",
                    "",
                    "Try: open wfo_meeting -> Trigger -> fill the form (title, date, time, duration,",
                    "attendees one per line, agenda) -> Trigger. The run's Workflow view tab (or",
                    "Browse -> Workflows (wfo)) shows the saga: status, steps, timeline; the",
                    "workflow_result task's XCom holds the WorkflowResult; the page is in",
                    "<workspace>/notion/pages/, the message in <workspace>/slack/outbox.jsonl.",
                    "",
                    "Ctrl-C stops Airflow.",
                ]
            ),
            title="Airflow (api-server, scheduler, dag-processor, triggerer)",
            expand=False,
        )
    )
    sys.stdout.flush()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="scripts/demo",
        description="Run the invoice workflow on the sample invoice (embedded default), or its rollback, "
        "or the Airflow UI with the package's DAGs.",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--fail", action="store_true", help="inject a failure in a required step and show the rollback"
    )
    mode.add_argument("--ui", action="store_true", help="start Airflow on 127.0.0.1 with the package's DAGs")
    parser.add_argument("--port", type=int, default=8080, help="UI port for --ui (default 8080)")
    args = parser.parse_args(argv)
    if args.ui:
        return _demo_ui(Console(highlight=False), args.port)
    # The console writes to a duplicate of the terminal, so that Airflow's output can be sent elsewhere.
    terminal = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1, encoding="utf-8")
    console = Console(file=terminal, highlight=False)
    if args.ui:
        return _demo_ui(console, args.port)
    return _demo_run(console, args.fail)


if __name__ == "__main__":
    sys.exit(main())
