"""A retry policy that keeps each retried attempt's error in the metadata DB.

Airflow clears a task's XComs when its next try starts, so the ``wfo_outcome`` of a retried attempt
is gone by the end of the run. The policy's ``reason`` is stored on the task instance
(``retry_reason``) and copied into ``task_instance_history`` with the attempt: that is where the audit
trail reads the error of every attempt but the last. It never changes Airflow's decision.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk.definitions.retry_policy import RetryAction, RetryDecision, RetryPolicy

from airflow_provider_wfo.redaction import redact_text
from airflow_provider_wfo.saga.records import error_text

MAX_REASON = 500


class RecordErrorRetryPolicy(RetryPolicy):
    def evaluate(
        self, exception: BaseException, try_number: int, max_tries: int, context: Any = None
    ) -> RetryDecision:
        try:
            reason = redact_text(error_text(exception))[:MAX_REASON]
        except Exception:
            reason = type(exception).__name__
        # RETRY with no delay: the task's own retries / retry_delay / backoff still decide.
        return RetryDecision(action=RetryAction.RETRY, reason=reason)
