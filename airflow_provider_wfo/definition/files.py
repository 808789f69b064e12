"""Which files in a folder are workflow definitions: the one listing ``wfo validate`` and the loader share.

Only regular files are listed. A FIFO, socket or device named ``*.json`` would block (or never
end) the read that follows, so it is skipped with a message rather than opened; so are broken
links. Hidden entries (a name starting with ``.``) and tool folders are never searched. Links to
files are followed (a definition may be linked in); links to folders are not descended, so a
link cycle cannot make the walk endless.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Callable
from pathlib import Path

__all__ = ["DEFINITION_SUFFIXES", "SKIPPED_DIRS", "definition_files", "is_definition_name", "not_regular"]

log = logging.getLogger(__name__)

DEFINITION_SUFFIXES = (".json", ".yaml", ".yml")
#: Folders never searched for definitions.
SKIPPED_DIRS = frozenset({"__pycache__", "node_modules", "venv"})

_KINDS = (
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISDIR, "a folder"),
)

#: Called with each skipped file and the reason.
OnSkip = Callable[[Path, str], None]


def is_definition_name(name: str) -> bool:
    """A visible name ending in ``.json``, ``.yaml`` or ``.yml`` (any case)."""
    return not name.startswith(".") and name.lower().endswith(DEFINITION_SUFFIXES)


def not_regular(mode: int) -> str | None:
    """Why a file of this ``st_mode`` cannot be a definition, or None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    for test, kind in _KINDS:
        if test(mode):
            return f"skipped: {kind}, not a regular file"
    return "skipped: not a regular file"


def _log_skip(path: Path, reason: str) -> None:
    log.warning("wfo: %s: %s", path, reason)


def definition_files(folder: str | os.PathLike[str], *, on_skip: OnSkip | None = None) -> list[Path]:
    """Every definition file under ``folder`` (searched recursively), sorted by path.

    Files that carry a definition's name but are not regular files are reported to ``on_skip``
    (default: a warning in the log) and left out.
    """
    report = on_skip or _log_skip
    root = Path(folder)
    found: list[Path] = []
    for current, dirs, files in os.walk(root):  # does not follow links to folders
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in SKIPPED_DIRS]
        for name in files:
            if not is_definition_name(name):
                continue
            path = Path(current) / name
            try:
                mode = path.stat().st_mode  # follows a link to its file
            except OSError as exc:
                report(path, f"skipped: {'a broken link' if path.is_symlink() else exc.strerror or exc}")
                continue
            reason = not_regular(mode)
            if reason is not None:
                report(path, reason)
                continue
            found.append(path)
    # Sorted as Paths (by their parts), the order the loader has always used.
    return sorted(found)
