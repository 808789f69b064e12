"""``WfoBrokenDefinitionOperator``: the only task of a broken definition's placeholder DAG.

It fails, without retrying, with the definition's problems (``file: location: message``), so a run
triggered on a broken definition says why it cannot do anything instead of doing something else.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowFailException


class WfoBrokenDefinitionOperator(BaseOperator):
    """Fails with the problems of the definition file it stands for."""

    template_fields: Sequence[str] = ()
    ui_color = "#f8d7da"

    def __init__(self, *, problems: Sequence[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.wfo_problems = list(problems)

    def execute(self, context: Any) -> None:
        raise AirflowFailException(
            "this workflow definition could not be loaded; fix the file and the DAG comes back "
            "on the next parse:\n" + "\n".join(self.wfo_problems)
        )
