"""Output helpers shared by the ``wfo`` subcommands: one rich console, no markup surprises.

Messages are printed as :class:`rich.text.Text`, never as markup, so ``steps[2]`` or a user's
``[bold]`` stays literal; long lines are not wrapped, so ``file: location: message`` stays one
line that tools can parse.
"""

from __future__ import annotations

from functools import cache

from rich.console import Console
from rich.text import Text

from airflow_provider_wfo.definition.errors import DefinitionError, ValidationIssue


@cache
def console() -> Console:
    """stdout: results and problems."""
    return Console(highlight=False, soft_wrap=True)


@cache
def err_console() -> Console:
    """stderr: summaries and errors about the command itself."""
    return Console(stderr=True, highlight=False, soft_wrap=True)


def issue_line(source: str, issue: ValidationIssue) -> Text:
    """``file: location: message`` with a little colour."""
    return Text.assemble((source, "bold"), ": ", (issue.location, "cyan"), ": ", (issue.message, "red"))


def print_issues(source: str, issues: list[ValidationIssue]) -> None:
    for issue in issues:
        console().print(issue_line(source, issue))


def print_definition_error(exc: DefinitionError, source: str | None = None) -> None:
    print_issues(source or exc.source or "<definition>", exc.issues)


def error(message: str, code: int = 1) -> int:
    """Print ``wfo: error: message`` to stderr and return ``code`` (for ``return error(...)``)."""
    err_console().print(Text.assemble(("wfo: error: ", "bold red"), message))
    return code


def warn(message: str) -> None:
    """Print ``wfo: warning: message`` to stderr."""
    err_console().print(Text.assemble(("wfo: warning: ", "bold yellow"), message))


def ok(message: str) -> None:
    console().print(Text(message, style="green"))
