"""dag-factory, for the parse comparison only, in an environment of its own: ``bench/.deps``.

dag-factory must not be in the product's ``.venv``: its plugin is loaded by every Airflow process
(a warning in every CLI run and task log, and half the throughput in one trial). So it is installed
(pinned by ``constraints.txt``, without its dependencies, which ``.venv`` already has: Airflow, PyYAML,
packaging, ...) into ``bench/.deps``, a folder only the dag-factory parse children put on their
``PYTHONPATH``. Built on first use (a few seconds, needs PyPI); ``rm -rf bench/.deps`` rebuilds it.
"""

from __future__ import annotations

import importlib.metadata
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEPS = ROOT / "bench" / ".deps"
#: dag-factory's own requirements that an Airflow venv may lack (installed next to it when missing).
REQUIRES = ("typer", "shellingham", "pathspec", "packaging", "pyyaml", "click", "rich", "typing-extensions")


def _pinned(name: str) -> str:
    text = (ROOT / "constraints.txt").read_text()
    found = re.search(rf"^{re.escape(name)}==(\S+)$", text, re.M | re.I)
    return f"{name}=={found.group(1)}" if found else name


def _missing_here() -> list[str]:
    missing = []
    for name in REQUIRES:
        try:
            importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            missing.append(name)
    return missing


def dagfactory_path() -> Path:
    """The folder to put on PYTHONPATH for dag-factory; installed there first if needed."""
    if (DEPS / "dagfactory" / "__init__.py").exists():
        return DEPS
    uv = shutil.which("uv")
    base = (
        [uv, "pip", "install", "--python", sys.executable] if uv else [sys.executable, "-m", "pip", "install"]
    )
    wanted = [_pinned("dag-factory"), *(_pinned(n) for n in _missing_here())]
    DEPS.mkdir(parents=True, exist_ok=True)
    subprocess.run([*base, "--quiet", "--no-deps", "--target", str(DEPS), *wanted], check=True)
    return DEPS


def dagfactory_version() -> str:
    for dist in importlib.metadata.distributions(path=[str(DEPS)]):
        if dist.metadata["Name"].lower() == "dag-factory":
            return str(dist.version)
    return "not installed"
