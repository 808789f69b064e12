"""``wfo connections check [CONN_ID ...]``: the connection doctor.

For every wfo connection (default: ``wfo_<target>`` of every connector that has a check), run the
connector's cheap authenticated read and print what works and what is missing, each with the fix.
Exit 0 when everything a workflow needs is there, 1 otherwise (recommendations do not count).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from rich.text import Text

from airflow_provider_wfo.cli.common import airflow_says_to_stderr, console, error


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "connections",
        help="check the wfo connections (the connection doctor)",
        description="Work with the Airflow connections wfo uses.",
    )
    sub = parser.add_subparsers(dest="connections_command", metavar="COMMAND")
    check = sub.add_parser(
        "check",
        help="run a cheap authenticated read per connection and say what is missing",
        description="For each connection (default: wfo_<target> of every target), run a cheap "
        "authenticated read (Drive about.get and the target folder, Sheets spreadsheets.get, Slack "
        "auth.test and its scopes, Notion users.me and the database's WFO Key property, Trello "
        "members/me, SMTP EHLO and login). Prints what works and what is missing with the fix; "
        "exit 1 when something a workflow needs is missing.",
    )
    check.add_argument(
        "conn_ids", nargs="*", metavar="CONN_ID", help="connection ids (default: all wfo_<target>)"
    )
    check.add_argument(
        "--target",
        help="the target a CONN_ID serves (default: from wfo_<target>, else every "
        "target its conn_type serves)",
    )
    check.add_argument("--spreadsheet-id", help="a spreadsheet to check with the Sheets connection")
    check.add_argument(
        "--database-id", help="a Notion database to check (default: extra default_database_id)"
    )
    check.add_argument("--json", action="store_true", help="print the findings as JSON")
    check.set_defaults(handler=run_check)

    def usage(args: argparse.Namespace) -> int:
        parser.print_help()
        return 2

    parser.set_defaults(handler=usage)


def _plan(conn_ids: list[str], target: str | None) -> list[tuple[str, Any]]:
    """(conn_id, connector) pairs to check."""
    from airflow_provider_wfo.connectors import catalog

    if not conn_ids:
        return [(f"wfo_{c.target}", c) for c in catalog.connectors() if c.doctor]
    plan: list[tuple[str, Any]] = []
    for conn_id in conn_ids:
        named = target or (conn_id[4:] if conn_id.startswith("wfo_") else None)
        connector = catalog.find(named) if named else None
        if connector is not None:
            plan.append((conn_id, connector))
            continue
        conn_type = _conn_type(conn_id)
        serving = [c for c in catalog.connectors() if c.doctor and conn_type in c.backends]
        plan.extend([(conn_id, c) for c in serving] or [(conn_id, None)])
    return plan


def _conn_type(conn_id: str) -> str | None:
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        return (BaseHook.get_connection(conn_id).conn_type or "").lower()
    except AirflowNotFoundException:
        return None


def check_one(conn_id: str, connector: Any, probe: Any) -> dict[str, Any]:
    from airflow_provider_wfo.actions.registry import ActionContext, ActionError
    from airflow_provider_wfo.connectors.connections import resolve
    from airflow_provider_wfo.connectors.doctor import check_local, missing
    from airflow_provider_wfo.connectors.spec import LOCAL_CONN_TYPE, load_object

    report: dict[str, Any] = {"connId": conn_id, "target": connector.target if connector else None}
    if connector is None:
        report["findings"] = [missing("no target serves this connection", "name one with --target").to_json()]
        return report
    ctx = ActionContext(
        target=connector.target, action="check", conn_id=conn_id, idempotency_key="wfo-doctor"
    )
    try:
        resolved = resolve(ctx)
    except ActionError as exc:
        report["findings"] = [missing(str(exc), "define the connection").to_json()]
        return report
    report["connType"] = resolved.conn_type
    if resolved.conn is None:
        report["note"] = "not defined: the local workspace default"
    if resolved.conn_type == LOCAL_CONN_TYPE:
        findings = check_local(resolved, probe)
    elif resolved.conn_type not in connector.backends:
        findings = [
            missing(
                f"conn_type {resolved.conn_type!r} is not one target {connector.target!r} serves",
                f"use {' or '.join(connector.real_conn_types)}",
            )
        ]
    else:
        try:
            findings = load_object(connector.doctor)(resolved, probe)
        except Exception as exc:  # a check must report, never crash the others
            findings = [missing(f"the check failed: {type(exc).__name__}: {resolved.scrub(exc)[:300]}", "")]
    report["findings"] = [f.to_json() for f in findings]
    return report


def _print(report: dict[str, Any]) -> None:
    head = Text.assemble((report["connId"], "bold"))
    if report.get("connType"):
        head.append(f" ({report['connType']}, target {report['target']})")
    if report.get("note"):
        head.append(f" -- {report['note']}", style="dim")
    console().print(head)
    for f in report["findings"]:
        if f["ok"]:
            console().print(Text.assemble("  ", ("✔ ", "green"), f["what"]))
        else:
            mark, style = ("✘ ", "red") if f["needed"] else ("! ", "yellow")
            line = Text.assemble("  ", (mark, style), f["what"])
            if f["fix"]:
                line.append(f"\n      fix: {f['fix']}", style="cyan")
            console().print(line)


def run_check(args: argparse.Namespace) -> int:
    from airflow_provider_wfo.connectors.doctor import Probe

    probe = Probe(spreadsheet_id=args.spreadsheet_id, database_id=args.database_id)
    with airflow_says_to_stderr():
        reports = [
            check_one(conn_id, connector, probe)
            for conn_id, connector in _plan(list(args.conn_ids), args.target)
        ]
    broken = [r["connId"] for r in reports if any(not f["ok"] and f["needed"] for f in r["findings"])]
    if args.json:
        console().file.write(json.dumps(reports, indent=2) + "\n")
    else:
        for report in reports:
            _print(report)
    if broken:
        return error(f"missing what a workflow needs: {', '.join(dict.fromkeys(broken))}")
    return 0
