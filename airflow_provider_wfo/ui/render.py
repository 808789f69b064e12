"""Server-side rendering of a run's trace: an SVG Gantt timeline, an SVG saga graph, and the page.

No JavaScript and nothing fetched from elsewhere, so the page works offline and inside the Airflow
UI's iframe. Every text that comes from a definition or a run is escaped.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from html import escape
from typing import Any
from urllib.parse import quote

from airflow_provider_wfo.events.trace import Attempt, RunTrace, TraceTask

COLORS = {
    "success": "#2e7d32",
    "failed": "#c62828",
    "up_for_retry": "#f9a825",
    "retried": "#f9a825",
    "running": "#1565c0",
    "queued": "#90a4ae",
    "scheduled": "#90a4ae",
    "skipped": "#bdbdbd",
    "upstream_failed": "#ef9a9a",
    "removed": "#e0e0e0",
    None: "#e0e0e0",
}
ROLLBACK_SUCCESS = "#00838f"

LABEL_W = 220
CHART_W = 720
ROW_H = 46


def _color(state: str | None, rollback: bool = False) -> str:
    if rollback and state == "success":
        return ROLLBACK_SUCCESS
    return COLORS.get(state, "#e0e0e0")


def _label(state: str | None, rollback: bool = False) -> str:
    if state is None:
        return "not run"
    if rollback and state == "success":
        return "rolled back"
    return state.replace("_", " ")


def _attempt_state(task: TraceTask, attempt: Attempt, last: bool) -> str | None:
    if not last:
        return "retried"
    return task.state


def _bounds(trace: RunTrace) -> tuple[datetime, datetime]:
    """The run's own start and end (Airflow's, which the header's duration uses too); while the run
    goes on, up to now."""
    moments: list[datetime] = []
    for task in [*trace.steps, *trace.compensations.values()]:
        for attempt in task.attempts:
            moments.extend(m for m in (attempt.start_time, attempt.end_time) if m is not None)
    now = datetime.now(timezone.utc)
    start = min([m for m in (trace.start_time, *moments) if m is not None], default=now)
    end = trace.end_time or max([*moments, now])
    return start, max([end, *moments])


def gantt_svg(trace: RunTrace) -> str:
    """One row per forward step: its attempts on the upper lane, its compensation's on the lower one."""
    start, end = _bounds(trace)
    span = max((end - start).total_seconds(), 0.001)

    def x(moment: datetime | None) -> float:
        if moment is None:
            return LABEL_W + CHART_W
        return LABEL_W + CHART_W * max(0.0, (moment - start).total_seconds()) / span

    height = 40 + ROW_H * max(1, len(trace.steps)) + 30
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="wfo-gantt" role="img" '
        f'aria-label="Timeline of {escape(trace.run_id)}" width="{LABEL_W + CHART_W + 110}" '
        f'height="{height}" font-family="sans-serif" font-size="12">',
        *_gantt_axis(span, height),
    ]
    for row, step in enumerate(trace.steps):
        y = 24 + row * ROW_H
        parts.append(f'<g class="wfo-row" data-step="{escape(step.step_id)}">')
        parts.append(f'<text x="4" y="{y + 15}" font-weight="bold">{escape(step.step_name)}</text>')
        if step.step_id in trace.compensations:
            parts.append(f'<text x="4" y="{y + 33}" fill="#00838f">undo</text>')
        parts.append(
            f'<line x1="{LABEL_W}" y1="{y + ROW_H - 3}" x2="{LABEL_W + CHART_W}" '
            f'y2="{y + ROW_H - 3}" stroke="#f0f0f0"/>'
        )
        parts.extend(_gantt_lane(step, y + 3, False, x, x(end)))
        compensation = trace.compensations.get(step.step_id)
        if compensation is not None:
            parts.extend(_gantt_lane(compensation, y + 22, True, x, x(end)))
        parts.append("</g>")
    parts.extend(_gantt_legend(height - 12))
    parts.append("</svg>")
    return "".join(parts)


def _gantt_axis(span: float, height: int) -> list[str]:
    """The scale: 0 and the whole span in ms at the ends, quarter lines between."""
    parts = [
        f'<text x="{LABEL_W}" y="14" fill="#555">0 ms</text>',
        f'<text x="{LABEL_W + CHART_W}" y="14" text-anchor="end" fill="#555">{int(span * 1000)} ms</text>',
    ]
    for i in range(1, 4):
        tx = LABEL_W + CHART_W * i / 4
        parts.append(f'<line x1="{tx:.1f}" y1="20" x2="{tx:.1f}" y2="{height - 30}" stroke="#eee"/>')
        parts.append(
            f'<text x="{tx:.1f}" y="14" text-anchor="middle" fill="#999">{int(span * 1000 * i / 4)}</text>'
        )
    return parts


def _gantt_lane(
    task: TraceTask, lane_y: int, rollback: bool, x: Callable[[datetime | None], float], x_end: float
) -> list[str]:
    """One task's attempts as bars (an attempt still running reaches ``x_end``), then its state."""
    parts: list[str] = []
    for k, attempt in enumerate(task.attempts):
        last = k == len(task.attempts) - 1
        state = _attempt_state(task, attempt, last)
        x0 = x(attempt.start_time)
        x1 = x(attempt.end_time) if attempt.end_time else x_end
        w = max(3.0, x1 - x0)
        took = "?" if attempt.duration is None else attempt.duration
        # A bar is Airflow's task attempt (start to end): say so, the table's duration is the step's.
        tip = (
            f"{'undo ' if rollback else ''}{task.step_name} attempt {attempt.attempt}: "
            f"{_label(state, rollback)}, Airflow task {took} ms"
            + (f" - {attempt.error}" if attempt.error else "")
        )
        parts.append(
            f'<rect x="{x0:.1f}" y="{lane_y}" width="{w:.1f}" height="16" rx="2" '
            f'fill="{_color(state, rollback)}" class="wfo-bar" data-state="{escape(str(state))}">'
            f"<title>{escape(tip)}</title></rect>"
        )
    if not task.attempts and not rollback:
        parts.append(
            f'<text x="{LABEL_W + 4}" y="{lane_y + 12}" font-size="10" fill="#777">'
            f"not run ({escape(_label(task.state))})</text>"
        )
    if task.state and task.attempts:
        last_end = task.attempts[-1].end_time
        parts.append(
            f'<text x="{x(last_end) + 4:.1f}" y="{lane_y + 12}" '
            f'font-size="10" fill="#333">{escape(_label(task.state, rollback))}'
            f"{' x' + str(len(task.attempts)) if len(task.attempts) > 1 else ''}</text>"
        )
    return parts


def _gantt_legend(legend_y: int) -> list[str]:
    legend = [
        ("success", "completed"),
        ("retried", "failed attempt (retried)"),
        ("failed", "failed"),
        ("rolled", "rolled back"),
        ("skipped", "skipped"),
    ]
    parts = []
    lx = LABEL_W
    for key, text in legend:
        color = ROLLBACK_SUCCESS if key == "rolled" else _color(key)
        parts.append(
            f'<rect x="{lx}" y="{legend_y - 9}" width="10" height="10" fill="{color}"/>'
            f'<text x="{lx + 14}" y="{legend_y}" fill="#555">{text}</text>'
        )
        lx += 150
    return parts


def _layers(steps: list[TraceTask]) -> dict[str, int]:
    ids = {s.task_id for s in steps}
    depth: dict[str, int] = {}

    def d(task: TraceTask, seen: frozenset[str] = frozenset()) -> int:
        if task.task_id in depth:
            return depth[task.task_id]
        ups = [u for u in task.upstream if u in ids and u not in seen]
        by_id = {s.task_id: s for s in steps}
        value = 0 if not ups else 1 + max(d(by_id[u], seen | {task.task_id}) for u in ups)
        depth[task.task_id] = value
        return value

    for step in steps:
        d(step)
    return depth


def graph_svg(trace: RunTrace) -> str:
    """The saga graph: forward steps left to right by dependency; each compensation under its step."""
    box_w, box_h, gap_x, gap_y = 170, 38, 50, 120
    depth = _layers(trace.steps)
    columns: dict[int, list[TraceTask]] = {}
    for step in trace.steps:
        columns.setdefault(depth.get(step.task_id, 0), []).append(step)
    pos: dict[str, tuple[float, float]] = {}
    for col, members in columns.items():
        for row, step in enumerate(members):
            pos[step.task_id] = (10 + col * (box_w + gap_x), 10 + row * gap_y)
    width = 20 + (max(columns, default=0) + 1) * (box_w + gap_x)
    height = 20 + max((len(m) for m in columns.values()), default=1) * gap_y
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="wfo-graph" role="img" aria-label="Saga graph" '
        f'width="{width}" height="{height}" font-family="sans-serif" font-size="12">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#666"/></marker></defs>',
    ]
    for step in trace.steps:
        x2, y2 = pos[step.task_id]
        for up in step.upstream:
            if up in pos:
                x1, y1 = pos[up]
                parts.append(
                    f'<line x1="{x1 + box_w}" y1="{y1 + box_h / 2}" x2="{x2}" y2="{y2 + box_h / 2}" '
                    f'stroke="#666" marker-end="url(#arrow)"/>'
                )
    for step in trace.steps:
        x0, y0 = pos[step.task_id]
        parts.append(_node(x0, y0, box_w, box_h, step.step_name, step.state, False, step.step_id))
        comp = trace.compensations.get(step.step_id)
        if comp is not None:
            parts.append(
                f'<line x1="{x0 + box_w / 2}" y1="{y0 + box_h}" x2="{x0 + box_w / 2}" '
                f'y2="{y0 + box_h + 22}" stroke="#00838f" stroke-dasharray="4 3"/>'
            )
            parts.append(
                _node(
                    x0,
                    y0 + box_h + 22,
                    box_w,
                    box_h,
                    f"undo {step.step_name}",
                    comp.state,
                    True,
                    comp.task_id,
                )
            )
    parts.append("</svg>")
    return "".join(parts)


def _node(
    x: float, y: float, w: int, h: int, name: str, state: str | None, rollback: bool, ident: str
) -> str:
    fill = _color(state, rollback)
    text = name if len(name) <= 24 else name[:23] + "\u2026"
    dash = ' stroke-dasharray="5 3"' if rollback else ""
    return (
        f'<g class="wfo-node" data-task="{escape(ident)}" data-state="{escape(str(state))}">'
        f'<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="6" fill="{fill}" fill-opacity="0.18" '
        f'stroke="{fill}" stroke-width="2"{dash}/>'
        f'<text x="{x + 8}" y="{y + 16}" font-weight="bold">{escape(text)}</text>'
        f'<text x="{x + 8}" y="{y + 31}" fill="#444" font-size="11">{escape(_label(state, rollback))}</text>'
        f"<title>{escape(name)}: {escape(_label(state, rollback))}</title></g>"
    )


_CSS = """
body{font-family:system-ui,sans-serif;margin:16px;color:#222}
h1{font-size:20px;margin:0 0 4px} .muted{color:#666} .badge{padding:2px 8px;border-radius:10px;color:#fff}
.bar{background:#eee;border-radius:6px;height:14px;width:420px;display:inline-block;vertical-align:middle}
.bar{display:inline-flex;overflow:hidden} .bar>.seg{display:block;height:14px}
table{border-collapse:collapse;margin-top:8px} td,th{border:1px solid #ddd;padding:4px 8px;font-size:13px;
vertical-align:top} th{background:#f5f5f5} .err{color:#c62828;max-width:320px;word-break:break-word}
.note{color:#555} section{margin:18px 0} h2{font-size:16px;margin:0 0 6px} code{font-size:12px}
"""


#: How a saga status reads in the tables, and its colour.
STATUS_TEXT = {
    "COMPLETED": ("completed", COLORS["success"]),
    "ROLLED_BACK": ("rolled back", ROLLBACK_SUCCESS),
    "ROLLBACK_FAILED": ("rollback failed", "#6a1b9a"),
    "FAILED": ("failed", COLORS["failed"]),
    "FAILED_OPTIONAL": ("failed (optional)", "#ef6c00"),
    "SKIPPED": ("skipped", COLORS["skipped"]),
    "RUNNING": ("running", COLORS["running"]),
    "PENDING": ("pending", COLORS["queued"]),
}
RUN_COLORS = {
    "COMPLETED": "#2e7d32",
    "ROLLED_BACK": "#00838f",
    "ROLLBACK_FAILED": "#6a1b9a",
    "FAILED": "#c62828",
    "RUNNING": "#1565c0",
    "PENDING": "#90a4ae",
}
#: Segments of the progress bar, left to right.
BAR_ORDER = (
    "COMPLETED",
    "ROLLED_BACK",
    "ROLLBACK_FAILED",
    "FAILED",
    "FAILED_OPTIONAL",
    "RUNNING",
    "SKIPPED",
    "PENDING",
)


def duration_text(task: TraceTask) -> str:
    """The last attempt's duration; with retries, how long all attempts took together."""
    if task.duration is None:
        return ""
    text = f"{task.duration} ms"
    if len(task.attempts) > 1:
        text += f" (last of {len(task.attempts)} attempts"
        text += f"; {task.span} ms in all)" if task.span is not None else ")"
    return text


def _task_time(task: TraceTask) -> str:
    """The last attempt as Airflow timed it (its task instance's start to end, the figure of Airflow's
    Task Instances tab and of the timeline's bar). The step's own duration above it is the attempt's
    work (params resolved, the action called: the WorkflowResult's); the rest is Airflow's (starting
    the task process, loading the DAG, pushing the XComs). Without both, a 43 ms step next to its
    1.1 s bar reads as a contradiction."""
    last = task.attempts[-1] if task.attempts else None
    if last is None or last.duration is None:
        return ""
    return f'<div class="muted" data-task-ms="{last.duration}">Airflow task {last.duration} ms</div>'


def _status_badge(task: TraceTask, rollback: bool) -> tuple[str, str]:
    if task.status in STATUS_TEXT:
        return STATUS_TEXT[task.status]
    if rollback:  # a compensation the gate did not choose
        return ("not needed" if task.state in ("skipped", None) else _label(task.state)), COLORS["skipped"]
    return _label(task.state), _color(task.state)


def _cell(task: TraceTask | None, rollback: bool) -> str:
    if task is None:
        return '<td colspan="4" class="muted">no compensation</td>' if rollback else '<td colspan="4"></td>'
    text, color = _status_badge(task, rollback)
    return (
        f'<td><span class="badge" style="background:{color}" data-status="{escape(str(task.status))}">'
        f"{escape(text)}</span></td>"
        f"<td>{len(task.attempts)}</td>"
        f"<td>{escape(duration_text(task))}{_task_time(task)}</td>"
        f'<td class="err">{escape(task.error or "")}'
        + (f'<div class="note" data-note="1">{escape(task.note)}</div>' if task.note else "")
        + "</td>"
    )


def _progress_bar(trace: RunTrace) -> str:
    """One segment per step status, so a rolled-back run shows what happened to each step."""
    total = max(1, len(trace.steps))
    parts = []
    for key in BAR_ORDER:
        count = sum(1 for s in trace.steps if s.status == key)
        if count:
            text, color = STATUS_TEXT[key]
            parts.append(
                f'<span class="seg" data-status="{key}" title="{count} {escape(text)}" '
                f'style="width:{100 * count / total:.2f}%;background:{color}"></span>'
            )
    return '<span class="bar" id="wfo-bar">' + "".join(parts) + "</span>"


def run_page(trace: RunTrace, base: str = "") -> str:
    status = trace.status or (trace.state or "").upper()
    color = RUN_COLORS.get(status, "#1565c0")
    percent = trace.progress.percent_complete if trace.progress else 0
    running = trace.state in ("running", "queued")
    took = "" if trace.duration is None else f"{trace.duration} ms (Airflow: run start to end)"
    rows = []
    for step in trace.steps:
        rows.append(
            f'<tr data-step="{escape(step.step_id)}"><td><b>{escape(step.step_name)}</b><br>'
            f'<code class="muted">{escape(step.step_id)}</code></td>'
            f"{_cell(step, False)}{_cell(trace.compensations.get(step.step_id), True)}</tr>"
        )
    events = "".join(
        f"<tr><td>{escape(e.timestamp.strftime('%H:%M:%S.%f')[:-3])}</td><td>{escape(e.type.value)}</td>"
        f"<td>{escape('undo ' if e.phase and e.phase.value == 'rollback' else '')}"
        f"{escape(e.step_name or '')}</td>"
        f"<td>{'' if e.attempt is None else e.attempt}</td>"
        f"<td>{'' if e.duration is None else e.duration}</td>"
        f"<td>{escape(str(e.progress.percent_complete) + '%') if e.progress else ''}</td>"
        f'<td class="err">{escape(e.error or "")}</td></tr>'
        for e in trace.events
    )
    refresh = '<meta http-equiv="refresh" content="3">' if running else ""
    api = f"{base}/api/dags/{quote(trace.dag_id, safe='')}/runs/{quote(trace.run_id, safe='')}/trace"
    return f"""<!doctype html><html><head><meta charset="utf-8">{refresh}
<title>{escape(trace.workflow_name)} - {escape(trace.run_id)}</title><style>{_CSS}</style></head><body>
<h1>{escape(trace.workflow_name)}
<span class="badge" id="wfo-status" style="background:{color}">{escape(status)}</span></h1>
<div class="muted">DAG <code>{escape(trace.dag_id)}</code> run <code>{escape(trace.run_id)}</code>
 &middot; <span id="wfo-duration">{escape(took)}</span>
 &middot; <a href="{escape(api)}">trace JSON</a></div>
<section>{_progress_bar(trace)} <b id="wfo-progress">{percent}%</b>
 <span class="muted">{_progress_text(trace)}</span>
 {f'<div class="err">{escape(trace.error)}</div>' if trace.error else ""}</section>
<section><h2>Timeline</h2>{gantt_svg(trace)}</section>
<section><h2>Saga graph</h2>{graph_svg(trace)}</section>
<section><h2>Steps and compensations</h2><table id="wfo-steps"><tr><th rowspan="2">Step</th>
<th colspan="4">Forward</th><th colspan="4">Compensation</th></tr>
<tr><th>status</th><th>attempts</th><th>duration</th><th>error</th>
<th>status</th><th>attempts</th><th>duration</th><th>error</th></tr>{"".join(rows)}</table></section>
<section><h2>Events</h2><table id="wfo-events"><tr><th>time</th><th>event</th><th>step</th><th>attempt</th>
<th>ms</th><th>progress</th><th>error</th></tr>{events}</table></section>
</body></html>"""


def _progress_text(trace: RunTrace) -> str:
    p = trace.progress
    if p is None:
        return ""
    text = f"{p.completed_steps}/{p.total_steps} steps completed, {p.failed_steps} failed"
    labels = (("ROLLED_BACK", "rolled back"), ("ROLLBACK_FAILED", "not undone"), ("SKIPPED", "skipped"))
    for key, label in labels:
        count = sum(1 for s in trace.steps if s.status == key)
        if count:
            text += f", {count} {label}"
    return text


def index_page(runs: list[dict[str, Any]], base: str = "") -> str:
    """Recent runs with the saga's status (ROLLED_BACK, not Airflow's ``failed``)."""
    rows = "".join(
        f'<tr><td><a href="{escape(run_url(base, r["dag_id"], r["run_id"]))}">'
        f"{escape(r['dag_id'])}</a></td><td>{escape(r['run_id'])}</td>"
        f'<td><span class="badge" style="background:{RUN_COLORS.get(str(r["status"]), "#1565c0")}" '
        f'data-state="{escape(str(r["state"]))}">{escape(str(r["status"]))}</span></td>'
        f"<td>{escape(str(r.get('start_date') or ''))}</td></tr>"
        for r in runs
    )
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>Workflow runs</title>
<style>{_CSS}</style></head><body><h1>Workflow runs</h1>
<table id="wfo-runs"><tr><th>workflow</th><th>run</th><th>status</th><th>started</th></tr>{rows}</table>
</body></html>"""


def run_url(base: str, dag_id: str, run_id: str) -> str:
    return f"{base}/dags/{quote(dag_id, safe='')}/runs/{quote(run_id, safe='')}"
