"""``wfo init DIR``: make a folder of JSON/YAML definitions a dags folder Airflow loads.

Airflow's dag-processor only reads ``.py`` files: a folder of definitions alone silently loads
nothing. ``wfo init`` writes the loader file next to them (``wfo_workflows.py``), or ``N`` of them
(``wfo_workflows_<i>_of_<N>.py``), each loading its share of the definitions under its own
``dagbag_import_timeout``: one per :data:`SHARD_SIZE` definitions found unless ``--shards N`` says
otherwise. A folder that already has a loader is left as it is.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path

LOADER_STEM = "wfo_workflows"
#: What marks a ``.py`` file as a loader of workflow definitions.
LOADER_CALL = "load_workflow_dags"
#: Definitions per loader file. One file of 1,000 ten-step definitions took 7-10 s to build and
#: 13-21 s to build and serialize on the 2-core machine of bench/dagprocessor.py, against the 22.5 s
#: the loader may build (45 % of the 50 s dag_file_processor_timeout): 500 keeps a file well inside
#: it on a loaded machine, and gives the dag-processor's two parsing processes files to share.
SHARD_SIZE = 500

_SOURCE = '''"""Every workflow definition (*.json, *.yaml, *.yml) under this folder becomes a DAG{part}.

Written by `wfo init`. A broken definition shows as a DAG tagged wfo-broken with the problem in its
description; the others keep loading.
"""

from airflow_provider_wfo import load_workflow_dags

load_workflow_dags(globals(){shard})
'''


@dataclass
class InitResult:
    folder: Path
    written: list[Path] = field(default_factory=list)
    existing: list[Path] = field(default_factory=list)
    removed: list[Path] = field(default_factory=list)
    definitions: int = 0


def loader_source(index: int = 1, count: int = 1) -> str:
    """The text of loader file ``index`` of ``count``."""
    if count == 1:
        return _SOURCE.format(part="", shard="")
    return _SOURCE.format(part=f" (part {index} of {count})", shard=f", shard=({index}, {count})")


def loader_name(index: int = 1, count: int = 1) -> str:
    return f"{LOADER_STEM}.py" if count == 1 else f"{LOADER_STEM}_{index}_of_{count}.py"


def find_loaders(folder: Path) -> list[Path]:
    """The ``.py`` files directly in ``folder`` that call the loader."""
    found = []
    for path in sorted(folder.glob("*.py")):
        try:
            if path.is_file() and LOADER_CALL in path.read_text(errors="replace"):
                found.append(path)
        except OSError:
            continue
    return found


def _ours(path: Path) -> bool:
    return path.name == f"{LOADER_STEM}.py" or (
        path.name.startswith(f"{LOADER_STEM}_") and "_of_" in path.name
    )


def shards_for(definitions: int) -> int:
    """How many loader files ``wfo init`` writes for this many definitions."""
    return max(1, -(-definitions // SHARD_SIZE))


def init_folder(folder: Path, shards: int | None = None, force: bool = False) -> InitResult:
    """Write the loader file(s) into ``folder`` (created if missing) unless it has a loader already.

    ``shards``: the number of loader files; None = :func:`shards_for` the definitions found.
    ``force`` replaces loaders ``wfo init`` wrote before (to change the number of shards); a loader
    someone wrote by hand is never touched.
    """
    from airflow_provider_wfo.definition.files import definition_files

    if shards is not None and shards < 1:
        raise ValueError(f"--shards must be at least 1, got {shards}")
    folder.mkdir(parents=True, exist_ok=True)
    result = InitResult(folder=folder, definitions=len(definition_files(folder, on_skip=lambda p, r: None)))
    if shards is None:
        shards = shards_for(result.definitions)
    existing = find_loaders(folder)
    if existing and not (force and all(_ours(p) for p in existing)):
        result.existing = existing
        return result
    wanted = {loader_name(i, shards): loader_source(i, shards) for i in range(1, shards + 1)}
    for path in existing:
        if path.name not in wanted:
            path.unlink()
            result.removed.append(path)
    for name, text in wanted.items():
        path = folder / name
        path.write_text(text)
        result.written.append(path)
    return result


def _run(args: argparse.Namespace) -> int:
    from airflow_provider_wfo.cli.common import console, error

    try:
        result = init_folder(Path(args.folder).expanduser(), shards=args.shards, force=args.force)
    except (ValueError, OSError) as exc:
        return error(str(exc))
    out = console()
    if result.existing:
        names = ", ".join(p.name for p in result.existing)
        out.print(f"{result.folder}: already has a loader ({names}); nothing written")
        if args.force:
            out.print("  (--force replaces only loaders `wfo init` wrote; this one was written by hand)")
    for path in result.removed:
        out.print(f"removed {path}")
    for path in result.written:
        out.print(f"wrote {path}")
    out.print(
        f"{result.definitions} workflow definition(s) under {result.folder} become DAGs once this folder "
        "is Airflow's dags folder (or inside it). Check them first: wfo validate "
        f"{result.folder}"
    )
    count = max(len(result.written), len(result.existing), 1)
    if count < shards_for(result.definitions):
        out.print(
            f"hint: {result.definitions} definitions: split them over more loader files so that no "
            f"single import timeout decides them all: wfo init {result.folder} --force --shards "
            f"{shards_for(result.definitions)}"
        )
    return 0


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "init",
        help="add the loader file to a dags folder of workflow definitions",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
    )
    parser.add_argument("folder", metavar="DIR", help="the dags folder (created if missing)")
    parser.add_argument(
        "--shards",
        type=int,
        default=None,
        metavar="N",
        help=f"split the definitions over N loader files (default: one per {SHARD_SIZE} definitions found)",
    )
    parser.add_argument("--force", action="store_true", help="replace loaders written by `wfo init` before")
    parser.set_defaults(handler=_run)
