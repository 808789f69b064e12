"""The docs' tables of targets, actions and backends, generated from the connector declarations.

``python -m airflow_provider_wfo.connectors.docs docs/connectors.md`` rewrites the part of that
file between the ``BEGIN``/``END`` markers (``scripts/build-readme`` runs it); a test fails when the
committed text differs from what the declarations say.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import AliasChoices

from airflow_provider_wfo.connectors.spec import LOCAL_CONN_TYPE, ActionSpec, Connector, Params, Result

BEGIN = "<!-- BEGIN generated from the connector declarations (scripts/build-readme); do not edit -->"
END = "<!-- END generated -->"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def params_text(model: type[Params]) -> str:
    parts = []
    for name, info in model.model_fields.items():
        main = info.alias or name
        choices = info.validation_alias
        aliases = (
            [c for c in choices.choices if isinstance(c, str) and c != main]
            if isinstance(choices, AliasChoices)
            else []
        )
        item = f"`{main}`" + ("*" if info.is_required() else "")
        if aliases:
            item += f" (alias {', '.join(f'`{a}`' for a in aliases)})"
        if info.description:
            item += f": {info.description.rstrip('.')}"
        parts.append(item)
    return "; ".join(parts) or "-"


def result_text(model: type[Result]) -> str:
    return ", ".join(f"`{info.alias or name}`" for name, info in model.model_fields.items())


def _names(connector: Connector) -> str:
    out = f"`{connector.target}`"
    if connector.aliases:
        out += " (" + ", ".join(f"`{a}`" for a in connector.aliases) + ")"
    return out


def _action(spec: ActionSpec) -> str:
    out = f"`{spec.name}`"
    if spec.aliases:
        out += " (" + ", ".join(f"`{a}`" for a in spec.aliases) + ")"
    return out


def actions_table(connectors: Iterable[Connector]) -> str:
    lines = [
        "| target | action | params (`*` required) | result | rollback |",
        "|---|---|---|---|---|",
    ]
    for connector in connectors:
        for spec in connector.actions:
            rollback = (
                f"`{spec.rollback}`" if spec.rollback and "{" in spec.rollback else (spec.rollback or "-")
            )
            row = [
                _names(connector),
                _action(spec),
                _cell(f"{spec.summary} " + params_text(spec.params)),
                result_text(spec.result),
                _cell(rollback),
            ]
            lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def backends_table(connectors: Iterable[Connector]) -> str:
    lines = [
        "| target | service | conn_type of the real backend | through | local backend |",
        "|---|---|---|---|---|",
    ]
    for connector in connectors:
        real = ", ".join(f"`{t}`" for t in connector.real_conn_types) or "-"
        local = "`wfo_local`" if LOCAL_CONN_TYPE in connector.backends else "-"
        lines.append(
            f"| {_names(connector)} | {connector.service} | {real} | {connector.real_backend} | {local} |"
        )
    return "\n".join(lines)


def generated(connectors: Iterable[Connector] | None = None) -> str:
    from airflow_provider_wfo.connectors import catalog

    chosen = list(connectors if connectors is not None else builtin_connectors(catalog.connectors()))
    return "\n\n".join([backends_table(chosen), actions_table(chosen)])


def builtin_connectors(found: Iterable[Connector]) -> list[Connector]:
    """Only this package's connectors go into this package's docs."""
    return [c for c in found if _module_of(c).startswith("airflow_provider_wfo.")]


def _module_of(connector: Connector) -> str:
    first: Any = next(iter(connector.backends.values()), "")
    return str(first).partition(":")[0]


def rewrite(text: str, body: str) -> str:
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    return text[:start] + "\n" + body + "\n" + text[end:]


def main(argv: list[str]) -> int:
    path = Path(argv[0])
    text = path.read_text()
    new = rewrite(text, generated())
    if new != text:
        path.write_text(new)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
