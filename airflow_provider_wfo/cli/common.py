"""Output helpers shared by the ``wfo`` subcommands: one rich console, no markup surprises.

Messages are printed as :class:`rich.text.Text`, never as markup, so ``steps[2]`` or a user's
``[bold]`` stays literal; long lines are not wrapped, so ``file: location: message`` stays one
line that tools can parse.

User data (run conf, step names, file names, a remote API's error text) may hold terminal control
sequences: ``\x1b]0;TITLE\x07`` retitles the window, ``\x1b[2J`` clears the screen, others move
the cursor to overwrite what was printed. Every console of the CLI is a :class:`SafeConsole`:
:func:`terminal_safe` removes them from every piece of text it writes, while rich's own styles and
cursor moves (emitted separately) still work. ``--json`` output escapes them (:func:`json_text`).
"""

from __future__ import annotations

import contextlib
import json
import re
import sys
from collections.abc import Iterable, Iterator
from functools import cache
from typing import Any

from rich.console import Console
from rich.segment import Segment
from rich.text import Text

from airflow_provider_wfo.definition.errors import DefinitionError, ValidationIssue

#: ECMA-48 sequences: CSI (7- and 8-bit), OSC / DCS / SOS / PM / APC strings up to their
#: terminator (BEL or ST) or the end of the text, then any other two-character escape.
_SEQUENCES = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[\x20-\x7e]?"
)
#: C0 and C1 controls, DEL, and the bidi overrides that make a terminal show text in another order.
_CONTROLS = "\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069"
_CONTROL = re.compile(f"[{_CONTROLS}]")
_CONTROL_OR_NEWLINE = re.compile(f"[{_CONTROLS}\\n\\t]")


def terminal_safe(text: str, *, newlines: bool = True) -> str:
    """``text`` without terminal control sequences and control characters (newline and tab kept
    unless ``newlines`` is false). THE helper for user data on a terminal."""
    if text.isprintable() and (newlines or "\n" not in text):
        return text  # the common case, without a regex pass
    text = _SEQUENCES.sub("", text)
    return (_CONTROL if newlines else _CONTROL_OR_NEWLINE).sub("", text)


def json_text(value: Any, indent: int | None = 2) -> str:
    """``value`` as JSON for a terminal: JSON already escapes C0 controls; DEL, C1 controls and
    bidi overrides are escaped too (they can only occur inside strings), so nothing is lost."""
    text = json.dumps(value, indent=indent, ensure_ascii=False, default=str)
    return _CONTROL.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)


class SafeConsole(Console):
    """A rich console that passes every piece of text through :func:`terminal_safe`.

    Rich renders to segments: text with a style, or control segments (its own cursor moves, from
    progress bars). Only the text segments are cleaned, so styles and live displays keep working.
    """

    def _render_buffer(self, buffer: Iterable[Segment]) -> str:
        return super()._render_buffer(
            segment if segment.control else Segment(terminal_safe(segment.text), segment.style)
            for segment in buffer
        )


def make_console(**kwargs: Any) -> Console:
    """A :class:`SafeConsole` with the CLI's defaults (no highlighting, no wrapping)."""
    kwargs.setdefault("highlight", False)
    kwargs.setdefault("soft_wrap", True)
    return SafeConsole(**kwargs)


@contextlib.contextmanager
def airflow_says_to_stderr() -> Iterator[None]:
    """Airflow writes its warnings to stdout while it loads and resolves connections (plugins, "a
    secret too short to mask", once per process); stdout is the command's own (``--json`` must be
    JSON alone), so inside this block whatever Airflow says goes to stderr. Print results after it."""
    with contextlib.redirect_stdout(sys.stderr):
        yield


@cache
def console() -> Console:
    """stdout: results and problems."""
    return make_console()


@cache
def err_console() -> Console:
    """stderr: summaries and errors about the command itself."""
    return make_console(stderr=True)


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
