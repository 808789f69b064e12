"""``wfo validate PATH...``: check definition files (or every definition in folders)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

from airflow_provider_wfo.cli.common import console, err_console, error, issue_line, ok, warn
from airflow_provider_wfo.definition.errors import DOCUMENT, DefinitionError, ValidationIssue
from airflow_provider_wfo.definition.files import definition_files
from airflow_provider_wfo.definition.loading import load_definition_file


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "validate",
        help="check workflow definition files",
        description="Check workflow definitions (files, or folders searched recursively for "
        "*.json, *.yaml, *.yml). Prints every problem as 'file: location: message' and exits 1 "
        "when any definition is invalid, 0 when all are valid.",
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="definition file or folder")
    parser.add_argument("-q", "--quiet", action="store_true", help="print only problems")
    parser.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="json: one list of {file, location, message}",
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="an unknown target or action is an error "
        "(default: a warning, as it may be registered in Python)",
    )
    parser.set_defaults(handler=run)


def find_definitions(path: Path) -> list[Path]:
    """The file itself, or every definition under a folder (see :mod:`~..definition.files`).

    A file skipped in a folder (a FIFO named ``*.json``...) is not a definition: the loader skips
    it too, so it is a warning on stderr, not a failure.
    """
    if not path.is_dir():
        return [path]
    return definition_files(path, on_skip=lambda file, reason: warn(f"{file}: {reason}"))


def check_file(path: Path, strict: bool = False) -> list[ValidationIssue]:
    import warnings

    from airflow_provider_wfo.definition.checks.actions import UnknownActionWarning, strict_actions

    with warnings.catch_warnings(record=True) as caught, strict_actions(strict):
        warnings.simplefilter("always", UnknownActionWarning)
        try:
            load_definition_file(path)
        except DefinitionError as exc:
            return exc.issues
        finally:
            for found in caught:
                if issubclass(found.category, UnknownActionWarning):
                    warn(f"{path}: {found.message}")
    return []


def _add_call_cycles(checked: list[tuple[str, list[ValidationIssue]]]) -> None:
    """Add the sub-workflow call cycles among the valid definitions of one folder to their issues."""
    from airflow_provider_wfo.definition.workflow_calls import call_cycle_issues

    valid = {}
    for source, issues in checked:
        if not issues:
            valid[source] = load_definition_file(Path(source))
    by_id = {defn.id: source for source, defn in valid.items()}
    for workflow_id, found in call_cycle_issues(valid.values()).items():
        for source, issues in checked:
            if source == by_id[workflow_id]:
                issues.extend(found)


def run(args: argparse.Namespace) -> int:
    paths: Sequence[str] = args.paths
    results: list[tuple[str, list[ValidationIssue]]] = []
    for raw in paths:
        if not raw.strip():  # Path("") is the current folder: an empty argument is a mistake
            results.append(
                (repr(raw), [ValidationIssue(DOCUMENT, "empty path; name a definition file or folder")])
            )
            continue
        path = Path(raw)
        if not path.exists():
            results.append((raw, [ValidationIssue(DOCUMENT, "no such file or folder")]))
            continue
        found = find_definitions(path)
        if not found:
            results.append(
                (raw, [ValidationIssue(DOCUMENT, "no *.json, *.yaml or *.yml files in this folder")])
            )
        checked = [(str(file), check_file(file, args.strict)) for file in found]
        if path.is_dir():
            _add_call_cycles(checked)
        results.extend(checked)
    invalid = sum(1 for _, issues in results if issues)
    if args.format == "json":
        payload = [
            {"file": source, "location": issue.location, "message": issue.message}
            for source, issues in results
            for issue in issues
        ]
        console().file.write(json.dumps(payload, indent=2) + "\n")
        return 1 if invalid else 0
    for source, issues in results:
        if issues:
            for issue in issues:
                console().print(issue_line(source, issue))
        elif not args.quiet:
            ok(f"{source}: ok")
    if invalid:
        return error(f"{invalid} of {len(results)} definition{'s' if len(results) != 1 else ''} invalid")
    if not args.quiet:
        err_console().print(
            f"{len(results)} definition{'s' if len(results) != 1 else ''} valid", style="green"
        )
    return 0
