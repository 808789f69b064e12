"""What every check reads (the raw data, the step index) and where it writes (the issues)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_wfo.definition.errors import ValidationIssue

__all__ = ["Context", "as_str", "clip"]


def as_str(value: Any) -> str | None:
    """``value`` when it is a string (pydantic reports the other types)."""
    return value if isinstance(value, str) else None


def clip(text: str, limit: int = 200) -> str:
    """A message part cut to ``limit`` characters, so hostile input cannot flood an error line."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass
class Context:
    """One validation pass: the data, the steps that are objects, and the issues found so far."""

    data: Mapping[str, Any]
    #: (position, step) for every step that is an object.
    steps: list[tuple[int, Mapping[str, Any]]]
    #: The declared params (name -> JSON Schema), empty when there are none.
    declared: dict[str, Any]
    #: step id -> position of its first use; filled by :func:`.names.check_step_ids`.
    index: dict[str, int] = field(default_factory=dict)
    issues: list[ValidationIssue] = field(default_factory=list)

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> Context:
        raw_steps = data.get("steps")
        steps = (
            [(i, s) for i, s in enumerate(raw_steps) if isinstance(s, Mapping)]
            if isinstance(raw_steps, list)
            else []
        )
        raw_params = data.get("params")
        declared = dict(raw_params) if isinstance(raw_params, Mapping) else {}
        return cls(data, steps, declared)

    def add(self, location: str, message: str) -> None:
        self.issues.append(ValidationIssue(location, message))

    def step_data(self, sid: str) -> Mapping[str, Any]:
        """The JSON data of the step with this id (its first use), or {}."""
        if sid not in self.index:
            return {}
        step = self.data["steps"][self.index[sid]]
        return step if isinstance(step, Mapping) else {}
