"""``handle_invoice``, ``handle_bug_report``, ``handle_meeting``, ``handle_report``: the seed's pre-built
workflows as Python functions.

Each one builds the run conf of its shipped definition (``prebuilt/*.json``), checks it against the
definition's ``params`` schema (the same check Airflow's trigger does), and runs it:

* **remotely** when an Airflow deployment is configured (``deployment=`` or the ``WFO_AIRFLOW_URL``
  environment, see :mod:`airflow_provider_wfo.prebuilt.remote`): the DAG is triggered through the REST
  API, the run is awaited, and its ``WorkflowResult`` is read back from XCom;
* **locally** otherwise, through ``execute_workflow`` on the embedded default.

Both return the same :class:`~airflow_provider_wfo.results.WorkflowResult`. File bytes cannot travel
in a run conf, so ``file_buffer`` is written to a folder the workers read (the local workspace's
``inbox``, or ``WFO_AIRFLOW_STAGING_DIR`` for a deployment) and the run gets its path as ``filePath``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import uuid
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlparse

from airflow_provider_wfo.prebuilt.definitions import check_conf, load_prebuilt
from airflow_provider_wfo.prebuilt.remote import AirflowDeployment, run_remote
from airflow_provider_wfo.results import WorkflowResult

#: ``"auto"``: remote when ``WFO_AIRFLOW_URL`` is set, else local. ``"local"``: always local.
Where = AirflowDeployment | Literal["auto", "local"]

_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")


def _safe_name(file_name: str) -> str:
    """A plain file name: no folders, no traversal, nothing a shell or a file system trips on."""
    base = file_name.replace("\\", "/").rsplit("/", 1)[-1]
    base = _UNSAFE.sub("_", base).strip(" .")
    return base or "document"


def local_workspace() -> Path:
    """The workspace of the local Drive backend for a run in this process (the embedded default).

    Prepares the embedded default first (it decides AIRFLOW_HOME), then follows the connector's rule:
    the ``wfo_drive`` connection's ``workspace`` extra when it is a local one, else ``$WFO_WORKSPACE``,
    else ``$AIRFLOW_HOME/workspace``.
    """
    from airflow_provider_wfo.connectors.connections import LOCAL_CONN_TYPE, default_workspace
    from airflow_provider_wfo.local.environment import prepare_environment

    prepare_environment()
    raw = os.environ.get("AIRFLOW_CONN_WFO_DRIVE", "").strip()
    if raw.startswith("{"):
        try:
            conn = json.loads(raw)
        except ValueError:
            conn = {}
        extra = conn.get("extra") or {}
        if isinstance(extra, str):
            extra = json.loads(extra or "{}")
        if conn.get("conn_type") == LOCAL_CONN_TYPE and extra.get("workspace"):
            return Path(str(extra["workspace"]))
    return default_workspace()


def stage_file(file_name: str, data: bytes, folder: str | os.PathLike[str] | None = None) -> Path:
    """Write ``data`` as ``<folder>/<unique id>/<file_name>`` and return the path.

    ``folder`` defaults to the local workspace's ``inbox``: the one input folder the local Drive
    backend reads from. A unique sub-folder keeps two uploads of ``invoice.pdf`` apart.
    """
    base = Path(folder) if folder is not None else local_workspace() / "inbox"
    target = base / uuid.uuid4().hex[:12] / _safe_name(file_name)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return target.resolve()


def _resolve_where(deployment: Where) -> AirflowDeployment | None:
    if isinstance(deployment, AirflowDeployment):
        return deployment
    if deployment == "local":
        return None
    return AirflowDeployment.from_env()


def _file_conf(
    file_name: str,
    file_buffer: bytes | None,
    file_path: str | os.PathLike[str] | None,
    remote: AirflowDeployment | None,
) -> tuple[str, Path | None]:
    """The ``filePath`` conf value, and the file this call staged (None when it staged nothing)."""
    if (file_buffer is None) == (file_path is None):
        raise ValueError("give exactly one of file_buffer (the bytes) or file_path (a path or URI)")
    if file_buffer is not None:
        if remote is not None:
            if not remote.staging_dir:
                raise ValueError(
                    "file_buffer with a remote Airflow deployment needs a folder its workers can read: "
                    "set WFO_AIRFLOW_STAGING_DIR (or AirflowDeployment.staging_dir), or pass file_path "
                    "with a URI the workers can open"
                )
            staged = stage_file(file_name, file_buffer, remote.staging_dir)
        else:
            staged = stage_file(file_name, file_buffer)
        return str(staged), staged
    text = os.fspath(file_path)  # type: ignore[arg-type]
    if remote is not None:
        return text, None  # the deployment's workers resolve it; nothing here can check it
    parsed = urlparse(text)
    if parsed.scheme not in ("", "file") and len(parsed.scheme) > 1:
        return text, None  # gs://, https://: for the connector to fetch
    local = Path(unquote(parsed.path) if parsed.scheme == "file" else text).expanduser()
    inbox = (local_workspace() / "inbox").resolve()
    resolved = local.resolve()
    if resolved.is_relative_to(inbox):
        return str(resolved), None
    # The local Drive backend reads only from its inbox; stage a copy rather than widen that.
    staged = stage_file(file_name, resolved.read_bytes())
    return str(staged), staged


def _run_with_file(
    name: str,
    conf: dict[str, Any],
    file_name: str,
    file_buffer: bytes | None,
    file_path: str | os.PathLike[str] | None,
    remote: AirflowDeployment | None,
    timeout: float | None,
    progress: bool,
) -> WorkflowResult:
    # Refuse a bad conf before writing anything anywhere.
    given = {key: value for key, value in conf.items() if value is not None}
    check_conf(load_prebuilt(name), {**given, "filePath": "(staged)"})
    conf["filePath"], staged = _file_conf(file_name, file_buffer, file_path, remote)
    try:
        return run_prebuilt(name, conf, deployment=remote or "local", timeout=timeout, progress=progress)
    finally:
        # A local run is over when this returns: its staged copy has been filed (or rolled back).
        # A deployment may still retry or re-run the step later, so its staged file stays.
        if staged is not None and remote is None:
            shutil.rmtree(staged.parent, ignore_errors=True)


def _date(value: str | dt.date) -> str:
    return value.isoformat() if isinstance(value, dt.date) else value


def _number(value: float | int | Decimal) -> float | int:
    return float(value) if isinstance(value, Decimal) else value


def run_prebuilt(
    name: str,
    conf: Mapping[str, Any],
    *,
    deployment: Where = "auto",
    timeout: float | None = None,
    progress: bool = False,
    on_poll: Callable[[dict[str, Any]], None] | None = None,
) -> WorkflowResult:
    """Run the shipped workflow ``name`` with ``conf`` (camelCase keys, as in the trigger form).

    Raises :class:`~airflow_provider_wfo.prebuilt.definitions.ConfValidationError` for a conf the
    params schema refuses, before anything runs.
    """
    defn = load_prebuilt(name)
    payload = {key: value for key, value in conf.items() if value is not None}
    check_conf(defn, payload)
    remote = _resolve_where(deployment)
    if remote is not None:
        return run_remote(defn.id, payload, remote, timeout=timeout, on_poll=on_poll)
    from airflow_provider_wfo.local.runner import execute_workflow

    # A local run happens in this process and ends when execute_workflow returns: there is nothing to
    # time out from the outside; each step's own ``timeout`` still applies.
    if not progress:
        return execute_workflow(defn, payload)
    from airflow_provider_wfo.prebuilt.progress import show_progress

    with show_progress(defn) as view:
        result = execute_workflow(defn, payload)
        view.finish(result)
    return result


def handle_invoice(
    *,
    file_name: str,
    vendor: str,
    amount: float | int | Decimal,
    due_date: str | dt.date,
    file_buffer: bytes | None = None,
    file_path: str | os.PathLike[str] | None = None,
    spreadsheet_id: str | None = None,
    approval_threshold: float | int | Decimal | None = None,
    deployment: Where = "auto",
    timeout: float | None = None,
    progress: bool = False,
) -> WorkflowResult:
    """File the invoice in Drive, ask for approval when ``amount`` exceeds ``approval_threshold``
    (default 10000; answered in Airflow's Required actions or its REST API, or locally with
    ``wfo run --approve approve-payment``), append a row to the tracking sheet, notify accounting
    (optional).

    Seed: ``handleInvoice({fileName, fileBuffer, vendor, amount, dueDate, spreadsheetId?})``.
    Give the document as ``file_buffer`` (bytes) or ``file_path`` (a path or URI). On a failure of a
    required step the filed document is deleted and the result says ROLLED_BACK.
    """
    conf: dict[str, Any] = {
        "fileName": file_name,
        "vendor": vendor,
        "amount": _number(amount),
        "dueDate": _date(due_date),
        "spreadsheetId": spreadsheet_id,
        "approvalThreshold": _number(approval_threshold) if approval_threshold is not None else None,
    }
    return _run_with_file(
        "invoice", conf, file_name, file_buffer, file_path, _resolve_where(deployment), timeout, progress
    )


def handle_bug_report(
    *,
    title: str,
    description: str,
    severity: Literal["Low", "Medium", "High", "Critical"],
    reporter: str,
    list_id: str | None = None,
    spreadsheet_id: str | None = None,
    deployment: Where = "auto",
    timeout: float | None = None,
    progress: bool = False,
) -> WorkflowResult:
    """Create a ``[BUG]`` Trello card, alert engineering in Slack (optional), track it in the bug sheet.

    Seed: ``handleBugReport({title, description, severity, reporter, listId?, spreadsheetId?})``.
    """
    conf = {
        "title": title,
        "description": description,
        "severity": severity,
        "reporter": reporter,
        "listId": list_id,
        "spreadsheetId": spreadsheet_id,
    }
    return run_prebuilt("bug_report", conf, deployment=deployment, timeout=timeout, progress=progress)


def handle_meeting(
    *,
    title: str,
    date: str | dt.date,
    time: str,
    duration: int,
    attendees: Sequence[str],
    agenda: str,
    database_id: str | None = None,
    deployment: Where = "auto",
    timeout: float | None = None,
    progress: bool = False,
) -> WorkflowResult:
    """Create the meeting page in Notion, then notify the attendees in Slack.

    Seed: ``handleMeeting({title, date, time, duration, attendees, agenda, databaseId?})``.
    """
    if isinstance(attendees, str):
        raise TypeError("attendees is a list of addresses, not one string")
    conf = {
        "title": title,
        "date": _date(date),
        "time": time,
        "duration": duration,
        "attendees": list(attendees),
        "agenda": agenda,
        "databaseId": database_id,
    }
    return run_prebuilt("meeting", conf, deployment=deployment, timeout=timeout, progress=progress)


def handle_report(
    *,
    file_name: str,
    report_type: str,
    stakeholders: Sequence[str],
    due_date: str | dt.date,
    file_buffer: bytes | None = None,
    file_path: str | os.PathLike[str] | None = None,
    list_id: str | None = None,
    deployment: Where = "auto",
    timeout: float | None = None,
    progress: bool = False,
) -> WorkflowResult:
    """File the report in Drive, create a Trello review card, notify the stakeholders (optional).

    Seed: ``handleReport({fileName, fileBuffer, reportType, stakeholders, dueDate, listId?})``.
    """
    if isinstance(stakeholders, str):
        raise TypeError("stakeholders is a list of addresses, not one string")
    conf: dict[str, Any] = {
        "fileName": file_name,
        "reportType": report_type,
        "stakeholders": list(stakeholders),
        "dueDate": _date(due_date),
        "listId": list_id,
    }
    return _run_with_file(
        "report", conf, file_name, file_buffer, file_path, _resolve_where(deployment), timeout, progress
    )
