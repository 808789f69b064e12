"""JSON Schema of each built-in action's params, so an editor completes and checks them.

``step_rules()`` gives the ``allOf`` of if/then rules that the definition schema puts on a step
(and on a rollback): when ``target`` is one of a connector's names and ``action`` one of the
action's names, ``params`` must match that action's schema. Any field may instead hold a reference
(a string with ``$name`` or ``${...}``), except the literal-only ones (an opt-in such as
``valueInputOption``), which the run-time conf must not be able to switch.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from pydantic import AliasChoices

from airflow_provider_wfo.connectors.spec import Connector, Params, literal_only

REFERENCE_DEF = "wfoReference"
#: A string holding a reference: ``$`` then a name or ``{``. Linear-time (no nested quantifiers).
REFERENCE_SCHEMA: dict[str, Any] = {
    "type": "string",
    "pattern": r"\$[A-Za-z_{]",
    "description": "A reference ($step.field, ${name}); its value is checked when the step runs.",
}


def _retarget(node: Any, prefix: str) -> Any:
    """Nested model refs (``#/$defs/SlackField``) renamed under the action, so names never clash."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith("#/$defs/"):
                out[key] = f"#/$defs/{prefix}{value.removeprefix('#/$defs/')}"
            else:
                out[key] = _retarget(value, prefix)
        return out
    if isinstance(node, list):
        return [_retarget(v, prefix) for v in node]
    return node


def model_schema(model: type[Params], prefix: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(schema of the params object, the $defs it needs)."""
    raw = model.model_json_schema(by_alias=True, mode="validation")
    defs = {f"{prefix}{k}": _retarget(v, prefix) for k, v in raw.pop("$defs", {}).items()}
    raw = _retarget(raw, prefix)
    props: dict[str, Any] = {}
    by_alias = {info.alias or name: info for name, info in model.model_fields.items()}
    for key, sub in raw.get("properties", {}).items():
        info = by_alias.get(key)
        sub.pop("title", None)
        if info is not None and not literal_only(info):
            sub = {
                "anyOf": [sub, {"$ref": f"#/$defs/{REFERENCE_DEF}"}],
                "description": sub.get("description", ""),
            }
        props[key] = sub
        choices = info.validation_alias if info is not None else None
        if isinstance(choices, AliasChoices):
            for alias in choices.choices:
                if isinstance(alias, str) and alias not in props and alias != key:
                    props[alias] = {**copy.deepcopy(sub), "description": f"Same as {key}."}
    schema: dict[str, Any] = {"type": "object", "properties": props, "additionalProperties": False}
    if raw.get("required"):
        schema["required"] = list(raw["required"])
    if raw.get("description"):
        schema["description"] = raw["description"]
    return schema, defs


def params_schemas(connectors: Iterable[Connector] | None = None) -> dict[str, dict[str, Any]]:
    """``"target.action"`` -> the params schema (with its nested defs inlined under ``$defs``)."""
    from airflow_provider_wfo.connectors import catalog

    out: dict[str, dict[str, Any]] = {}
    for connector in connectors if connectors is not None else catalog.connectors():
        for spec in connector.actions:
            schema, defs = model_schema(spec.params, f"{connector.target}.{spec.name}.")
            if defs:
                schema["$defs"] = defs
            out[f"{connector.target}.{spec.name}"] = schema
    return out


def definitions(connectors: Iterable[Connector]) -> dict[str, Any]:
    """The ``$defs`` the step rules point at: one per action, its nested models, the reference."""
    defs: dict[str, Any] = {REFERENCE_DEF: REFERENCE_SCHEMA}
    for connector in connectors:
        for spec in connector.actions:
            name = f"{connector.target}.{spec.name}"
            schema, nested = model_schema(spec.params, f"{name}.")
            defs[f"{name}.params"] = schema
            defs.update(nested)
    return defs


def step_rules(connectors: Iterable[Connector]) -> list[dict[str, Any]]:
    rules = []
    for connector in connectors:
        for spec in connector.actions:
            rules.append(
                {
                    "if": {
                        "properties": {
                            "target": {"enum": list(connector.names)},
                            "action": {"enum": list(spec.names)},
                        },
                        "required": ["target", "action"],
                    },
                    "then": {
                        "properties": {"params": {"$ref": f"#/$defs/{connector.target}.{spec.name}.params"}}
                    },
                }
            )
    return rules


def apply_to_definition_schema(
    schema: dict[str, Any], connectors: Iterable[Connector] | None = None
) -> dict[str, Any]:
    """The definition schema with per-action params rules on WorkflowStep and RollbackAction."""
    from airflow_provider_wfo.connectors import catalog
    from airflow_provider_wfo.connectors.docs import builtin_connectors

    chosen = list(connectors if connectors is not None else builtin_connectors(catalog.connectors()))
    out = copy.deepcopy(schema)
    defs = out.setdefault("$defs", {})
    defs.update(definitions(chosen))
    rules = step_rules(chosen)
    for model in ("WorkflowStep", "RollbackAction"):
        if model in defs:
            defs[model]["allOf"] = copy.deepcopy(rules)
            targets = defs[model].get("properties", {}).get("target")
            if isinstance(targets, dict):
                # Completion: the built-in names, while any other name stays allowed (user actions).
                targets["examples"] = [n for c in chosen for n in c.names]
    return out
