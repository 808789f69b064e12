"""``wfo``: the command line of airflow-provider-wfo (argparse + rich).

Subcommands are modules of this package, named in :data:`SUBCOMMANDS`. Each module exposes::

    def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
        parser = subparsers.add_parser("run", help="...", description="...")
        parser.add_argument(...)
        parser.set_defaults(handler=_run)      # _run(args: argparse.Namespace) -> int (exit code)

``wfo <name> ...`` imports only that module; ``wfo --help`` imports them all. Rules for a
subcommand module: importing it must be cheap (import Airflow inside the handler,
never at module level: ``wfo validate`` and ``wfo schema`` must not pay for Airflow); print with
:mod:`airflow_provider_wfo.cli.common`; return an exit code instead of calling ``sys.exit``. A
:class:`~airflow_provider_wfo.definition.errors.DefinitionError` escaping a handler is printed as
``file: location: message`` lines (exit 1); any other exception becomes a one-line error (exit 2),
with the traceback only when ``WFO_DEBUG=1``. A module that is missing is left out of the menu;
one that fails to import shows up as a subcommand that explains why.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from airflow_provider_wfo import __version__

#: The subcommands, in menu order; each is ``airflow_provider_wfo.cli.<name>``.
SUBCOMMANDS: tuple[str, ...] = ("init", "validate", "schema", "run", "graph", "trace", "connections")


def _broken(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser], name: str, exc: BaseException
) -> None:
    reason = f"{type(exc).__name__}: {exc}"

    def handler(args: argparse.Namespace) -> int:
        from airflow_provider_wfo.cli.common import error

        return error(f"'wfo {name}' is unavailable ({reason})")

    parser = subparsers.add_parser(name, help=f"(unavailable: {reason})", add_help=True)
    parser.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    parser.set_defaults(handler=handler)


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser with every subcommand, or with only ``only`` (what ``main`` uses to run one)."""
    parser = argparse.ArgumentParser(
        prog="wfo",
        description="Workflow Orchestrator for Apache Airflow 3: JSON/YAML workflow definitions "
        "that run as DAGs with saga (commit or roll back) semantics.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    for name in SUBCOMMANDS if only is None else (only,):
        module_name = f"{__name__}.{name}"
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                continue  # not written yet / not shipped: simply not offered
            _broken(subparsers, name, exc)
            continue
        except Exception as exc:
            _broken(subparsers, name, exc)
            continue
        try:
            module.add_parser(subparsers)
        except Exception as exc:
            _broken(subparsers, name, exc)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``wfo`` console script. Returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    # Import only the subcommand asked for: `wfo validate` never pays for `wfo run`'s imports.
    first = next((arg for arg in argv if not arg.startswith("-")), None)
    parser = build_parser(first if first in SUBCOMMANDS else None)
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    from airflow_provider_wfo.cli.common import error, print_definition_error
    from airflow_provider_wfo.definition.errors import DefinitionError

    try:
        code: int = handler(args)
        return code
    except DefinitionError as exc:
        print_definition_error(exc)
        return 1
    except KeyboardInterrupt:
        return error("interrupted", code=130)
    except BrokenPipeError:
        return 0
    except Exception as exc:
        if os.environ.get("WFO_DEBUG"):
            raise
        return error(f"{type(exc).__name__}: {exc} (set WFO_DEBUG=1 to see the traceback)", code=2)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
