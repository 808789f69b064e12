"""The workspace folder: safe paths, atomic writes, cross-process locks, the idempotency index.

Several workers on one machine may share a workspace, so every read-modify-write happens under an
``fcntl.flock`` on a lock file (one per target), and every write is a temp file + ``os.replace``.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from airflow_provider_wfo.actions.registry import NonRetryableActionError

_BAD_COMPONENT = re.compile(r"[\x00-\x1f/\\]")
META_DIR = ".wfo"


def safe_component(value: str, what: str) -> str:
    """``value`` as one path component, or refuse it: no separators, no ``..``, no leading dot."""
    text = str(value).strip()
    if not text or text in (".", "..") or text.startswith(".") or _BAD_COMPONENT.search(text):
        raise NonRetryableActionError(f"{what} {value!r} is not allowed here (one plain name, no path)")
    if len(text.encode()) > 200:
        raise NonRetryableActionError(f"{what} is longer than 200 bytes")
    return text


def safe_file_name(name: str) -> str:
    """The last component of ``name`` (so ``../../etc/passwd`` files as ``passwd``), checked."""
    base = str(name).replace("\\", "/").rstrip("/").split("/")[-1].strip()
    return safe_component(base, "file name")


def is_within(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
    except ValueError:
        return False
    return True


class Workspace:
    def __init__(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.root = root.resolve()

    # -- paths ---------------------------------------------------------------------------------------
    def path(self, *parts: str) -> Path:
        """A path under the workspace from checked components; never outside it."""
        for part in parts:
            if part != META_DIR:
                safe_component(part, "path component")
        candidate = self.root.joinpath(*parts)
        # resolve() follows symlinks: a link inside the workspace that points out is refused too.
        if not is_within(candidate.resolve(), self.root):
            raise NonRetryableActionError("path leaves the workspace")
        return candidate

    def meta(self, *parts: str) -> Path:
        return self.path(META_DIR, *parts)

    def uri(self, path: Path) -> str:
        return path.resolve().as_uri()

    # -- locking and atomic writes ------------------------------------------------------------------
    @contextlib.contextmanager
    def lock(self, name: str) -> Iterator[None]:
        lock_dir = self.meta("locks")
        lock_dir.mkdir(parents=True, exist_ok=True)
        with open(lock_dir / f"{safe_component(name, 'lock name')}.lock", "a+b") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def write_bytes(self, path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise

    def write_json(self, path: Path, value: Any) -> None:
        self.write_bytes(path, json.dumps(value, indent=1, sort_keys=True, default=str).encode())

    def read_json(self, path: Path, default: Any) -> Any:
        try:
            return json.loads(path.read_text())
        except FileNotFoundError:
            return default

    def append_line(self, path: Path, record: dict[str, Any]) -> None:
        """Append one JSON line (call under the target's lock; rewrite keeps it atomic)."""
        existing = path.read_bytes() if path.exists() else b""
        if existing and not existing.endswith(b"\n"):
            existing += b"\n"
        text = json.dumps(record, sort_keys=True, default=str, ensure_ascii=False)
        # NEL and the Unicode line separators are line breaks to str.splitlines() and many readers:
        # escaped, one record stays one line (JSON allows them raw, so nothing is lost).
        text = text.replace("\x85", "\\u0085").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
        line = text.encode() + b"\n"
        self.write_bytes(path, existing + line)

    def remove_empty_dirs(self, path: Path, stop: Path) -> None:
        """Remove ``path`` and its parents up to (not including) ``stop`` while they are empty."""
        current = path
        while is_within(current, stop) and current != stop:
            try:
                current.rmdir()
            except OSError:
                return
            current = current.parent

    # -- idempotency index (call under the target's lock) -------------------------------------------
    # One small file per key, so a busy workspace never rewrites a growing index.
    def _key_path(self, target: str, key: str) -> Path:
        digest = hashlib.sha256(key.encode()).hexdigest()[:40]
        return self.meta("keys", safe_component(target, "target"), f"{digest}.json")

    def recall(self, target: str, key: str) -> dict[str, Any] | None:
        found = self.read_json(self._key_path(target, key), None)
        if isinstance(found, dict) and found.get("key") == key and isinstance(found.get("result"), dict):
            return dict(found["result"])
        return None

    def remember(self, target: str, key: str, result: dict[str, Any]) -> None:
        self.write_json(self._key_path(target, key), {"key": key, "result": result})

    def forget(self, target: str, key: str | None) -> None:
        """Drop the entry for ``key`` (after what it names was removed by a rollback)."""
        if not key:
            return
        path = self._key_path(target, key)
        path.unlink(missing_ok=True)
        self.remove_empty_dirs(path.parent, self.meta())
