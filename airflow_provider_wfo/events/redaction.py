"""Secret redaction with Airflow's secrets masker (wherever this Airflow version keeps it)."""

from __future__ import annotations

import json
from typing import Any


def redact(value: Any) -> Any:
    """Sensitive key names and registered secrets masked; the result is JSON-safe."""
    try:
        from airflow.sdk._shared.secrets_masker import redact as airflow_redact
    except ImportError:  # pragma: no cover - other layouts
        try:
            from airflow.sdk.execution_time.secrets_masker import (  # type: ignore[no-redef]
                redact as airflow_redact,
            )
        except ImportError:
            from airflow.utils.log.secrets_masker import redact as airflow_redact  # type: ignore[no-redef]
    return json.loads(json.dumps(airflow_redact(value), default=str))


def redact_text(text: str) -> str:
    redacted = redact(text)
    return redacted if isinstance(redacted, str) else str(redacted)
