"""``wfo graph FILE``: the generated DAG, compensations included, as a Mermaid flowchart."""

from __future__ import annotations

import argparse

from airflow_provider_wfo.cli.common import console


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "graph",
        help="print the generated DAG as Mermaid",
        description="Build the Airflow DAG of a workflow definition (no database, no network) and print "
        "it as a Mermaid flowchart: the steps, the saga_decision gate, the compensate group (undo tasks "
        "in reverse dependency order) and workflow_result. Paste it into a ```mermaid block.",
    )
    parser.add_argument("file", metavar="FILE", help="workflow definition (.json, .yaml, .yml)")
    parser.add_argument(
        "--direction", choices=("TD", "LR"), default="TD", help="top-down (default) or left-right"
    )
    parser.add_argument(
        "--fenced", action="store_true", help="wrap in a ```mermaid code fence (for Markdown)"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from airflow_provider_wfo.definition.loading import load_definition_file
    from airflow_provider_wfo.local.graph import definition_to_mermaid

    defn = load_definition_file(args.file)
    text = definition_to_mermaid(defn, args.direction)
    if args.fenced:
        text = f"```mermaid\n{text}\n```"
    console().print(text, markup=False, highlight=False)
    return 0
