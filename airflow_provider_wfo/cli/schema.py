"""``wfo schema``: print the JSON Schema of a workflow definition."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from airflow_provider_wfo.definition.schema import workflow_json_schema_text


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "schema",
        help="print the JSON Schema of a workflow definition",
        description="Print the JSON Schema (Draft 2020-12) of a workflow definition, for editors "
        "and other tools. It checks structure and types; 'wfo validate' checks everything.",
    )
    parser.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    text = workflow_json_schema_text()
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0
