"""Airflow extensions that are text with a grammar: the schedule and the start date."""

from __future__ import annotations

from datetime import datetime

from airflow_provider_wfo.definition.checks.context import Context, as_str
from airflow_provider_wfo.definition.errors import suggestion
from airflow_provider_wfo.definition.rules import SCHEDULE_PRESETS

__all__ = ["check_schedule", "check_start_date"]


def check_schedule(ctx: Context) -> None:
    """A preset Airflow knows, or a five-field cron expression croniter accepts."""
    schedule = as_str(ctx.data.get("schedule"))
    if schedule is None:
        return
    text = schedule.strip()
    if not text:
        ctx.add("schedule", "the schedule is empty; leave it out (or null) for manual runs only")
        return
    if text.startswith("@"):
        if text not in SCHEDULE_PRESETS:
            ctx.add(
                "schedule",
                f"unknown preset {text!r}{suggestion(text, SCHEDULE_PRESETS)} "
                f"(presets: {', '.join(SCHEDULE_PRESETS)})",
            )
        return
    fields = text.split()
    if len(fields) != 5:
        ctx.add(
            "schedule",
            f"{text!r} is not a cron expression: cron has 5 fields (minute hour day-of-month month "
            f"day-of-week), this has {len(fields)}; or use a preset such as @daily",
        )
        return
    from croniter import croniter  # small; imported only when a schedule is given

    try:
        valid = bool(croniter.is_valid(text))
    except Exception:  # croniter raises on some inputs instead of answering False
        valid = False
    if not valid:
        ctx.add(
            "schedule",
            f"{text!r} is not a valid cron expression (minute hour day-of-month month day-of-week)",
        )


def check_start_date(ctx: Context) -> None:
    start = as_str(ctx.data.get("startDate"))
    if start is None:
        return
    try:
        datetime.fromisoformat(start.strip())
    except ValueError:
        ctx.add("startDate", f"{start!r} is not an ISO date: write 2025-01-31 or 2025-01-31T09:00:00+00:00")
