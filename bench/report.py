"""The table: printed, and written as bench/results/latest.json and latest.md."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

TARGETS = {
    "parse_vs_hand": 1.3,
    "parse_vs_dagfactory": 0.5,
    "step_overhead": 1.15,
    "parse_vs_empty": 1.3,
    "throughput_vs_hand": 0.8,
    "throughput_chain": 0.9,
    "scaling_exponent": 1.15,
}


def _f(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _met(ok: bool | None) -> str:
    return "n/a" if ok is None else ("yes" if ok else "NO")


def rows(results: dict[str, Any]) -> list[list[str]]:
    """Metric | ours | baseline | ratio | target | met."""
    out: list[list[str]] = []
    targets: dict[str, bool | None] = {}
    parse = results.get("parse")
    if parse:
        s = parse["sides"]
        label = f"N={parse['n']} x K={parse['k']}"
        rh, rd = parse["ratio_hand"], parse["ratio_dagfactory"]
        targets["parse_vs_hand"] = rh <= TARGETS["parse_vs_hand"]
        targets["parse_vs_dagfactory"] = rd <= TARGETS["parse_vs_dagfactory"]
        out.append(
            [
                f"Parse {label}: DagBag s vs hand-written",
                _f(s["ours"]["parse_s"]),
                _f(s["hand"]["parse_s"]),
                _f(rh, 2),
                "<= 1.3",
                _met(targets["parse_vs_hand"]),
            ]
        )
        out.append(
            [
                f"Parse {label}: DagBag s vs dag-factory (forward only)",
                _f(s["ours"]["parse_s"]),
                _f(s["dagfactory"]["parse_s"]),
                _f(rd, 2),
                "<= 0.5",
                _met(targets["parse_vs_dagfactory"]),
            ]
        )
        if "hand_empty" in s:
            re_ = parse["ratio_hand_empty"]
            targets["parse_vs_empty"] = re_ <= TARGETS["parse_vs_empty"]
            out.append(
                [
                    f"Parse {label}: DagBag s vs the same graph hand-written with EmptyOperator",
                    _f(s["ours"]["parse_s"]),
                    _f(s["hand_empty"]["parse_s"]),
                    _f(re_, 2),
                    "<= 1.3",
                    _met(targets["parse_vs_empty"]),
                ]
            )
            out.append(
                [
                    "Parse CPU seconds vs EmptyOperator",
                    _f(s["ours"]["parse_cpu_s"]),
                    _f(s["hand_empty"]["parse_cpu_s"]),
                    _f(parse["ratio_hand_empty_cpu"], 2),
                    "(info)",
                    "",
                ]
            )
        out.append(
            [
                f"Parse {label}: vs hand-written with a trivial BaseOperator for every task",
                _f(s["ours"]["parse_s"]),
                _f(s["hand_min"]["parse_s"]),
                _f(parse["ratio_hand_min"], 2),
                "(info)",
                "",
            ]
        )
        out.append(
            [
                "Parse CPU seconds (robust to load) vs hand-written / dag-factory",
                _f(s["ours"]["parse_cpu_s"]),
                _f(s["hand"]["parse_cpu_s"]) + " / " + _f(s["dagfactory"]["parse_cpu_s"]),
                _f(parse["ratio_hand_cpu"], 2) + " / " + _f(parse["ratio_dagfactory_cpu"], 2),
                "(info)",
                "",
            ]
        )
        out.append(
            [
                "Library import + first-DAG setup per process (s): ours vs hand / dag-factory",
                _f(s["ours"]["side_import_s"]),
                _f(s["hand"]["side_import_s"]) + " / " + _f(s["dagfactory"]["side_import_s"]),
                "",
                "(info)",
                "",
            ]
        )
        out.append(
            [
                "dag-processor view (import+parse per fork) vs hand-written (airflow.* imports pre-imported)",
                _f(s["ours"]["cold_s"]),
                _f(s["hand"]["parse_s"]),
                _f(parse["ratio_hand_dagprocessor"], 2),
                "(info)",
                "",
            ]
        )
        out.append(
            [
                "dag-processor view (import+parse per fork) vs dag-factory",
                _f(s["ours"]["cold_s"]),
                _f(s["dagfactory"]["cold_s"]),
                _f(parse["ratio_dagfactory_cold"], 2),
                "(info)",
                "",
            ]
        )
        out.append(
            [
                "Serialize all DAGs (dag-processor) s vs hand-written",
                _f(s["ours"]["serialize_s"]),
                _f(s["hand"]["serialize_s"]),
                _f(s["ours"]["serialize_s"] / s["hand"]["serialize_s"], 2),
                "(info)",
                "",
            ]
        )
    scaling = results.get("scaling")
    if scaling:
        ok = True
        for axis, data in scaling["series"].items():
            fit = data["fits"]["ours"]
            ref = data["fits"].get("hand")
            pts = data["points"]["ours"]
            sizes = ", ".join(str(p["size"]) for p in pts)
            secs = ", ".join(_f(p["parse_s"], 2) for p in pts)
            ok = ok and not fit["superlinear"]
            out.append(
                [
                    f"Parse scaling in {axis} ({sizes}): exponent, s = {secs}",
                    _f(fit["exponent"], 2) + " (last " + _f((fit["segments"] or [float("nan")])[-1], 2) + ")",
                    (
                        "hand "
                        + _f(ref["exponent"], 2)
                        + " (last "
                        + _f((ref["segments"] or [float("nan")])[-1], 2)
                        + ")"
                    )
                    if ref
                    else "-",
                    "-",
                    "<= 1.15 (linear)",
                    _met(not fit["superlinear"]),
                ]
            )
        targets["scaling"] = ok
        k_points = scaling["series"].get("K", {}).get("points", {})
        if "hand" in k_points and k_points["ours"] and k_points["ours"][0].get("cold_s") is not None:
            o, h = k_points["ours"][0], k_points["hand"][0]
            out.append(
                [
                    f"One definition of {o['size']} steps, dag-processor view (import+parse) vs hand parse",
                    _f(o["cold_s"]),
                    _f(h["parse_s"]),
                    _f(o["cold_s"] / h["parse_s"], 1),
                    "(info)",
                    "",
                ]
            )
    steps = results.get("steps")
    if steps:
        ok = steps["ratio_per_step"] <= TARGETS["step_overhead"]
        targets["step_overhead"] = ok
        out.append(
            [
                f"Step overhead: ms per step, dag.test, {steps['steps']} no-op steps vs @task",
                _f(steps["per_step_ms"]["ours"], 1),
                _f(steps["per_step_ms"]["hand"], 1),
                _f(steps["ratio_per_step"], 2),
                "<= 1.15",
                _met(ok),
            ]
        )
        out.append(
            [
                "Step overhead: difference per step (ms)",
                _f(steps["per_step_diff_ms"], 1),
                "",
                "",
                "(info)",
                "",
            ]
        )
        out.append(
            [
                "Step overhead: CPU ms per step (robust to load)",
                _f(steps["per_step_cpu_ms"]["ours"], 1),
                _f(steps["per_step_cpu_ms"]["hand"], 1),
                _f(steps["ratio_per_step_cpu"], 2),
                "(info)",
                "",
            ]
        )
        out.append(
            [
                "Step overhead: time inside one forward task (ms)",
                _f(steps["task_duration_ms"]["ours"], 1),
                _f(steps["task_duration_ms"]["hand"], 1),
                _f(steps["ratio_task_duration"], 2),
                "(info)",
                "",
            ]
        )
    thr = results.get("throughput")
    if thr:
        if thr.get("measured"):
            ok = thr["ratio"] >= TARGETS["throughput_vs_hand"]
            targets["throughput"] = ok
            out.append(
                [
                    f"Throughput: invoice runs/min, {thr['workers']} Celery workers",
                    _f(thr["ours_per_min"], 1),
                    _f(thr["hand_per_min"], 1),
                    _f(thr["ratio"], 2),
                    ">= 0.8",
                    _met(ok),
                ]
            )
            chain = thr.get("chain")
            if chain:
                ok_chain = chain["ratio"] >= TARGETS["throughput_chain"]
                targets["throughput_chain"] = ok_chain
                out.append(
                    [
                        "Throughput: rollback-free 3-step workflow vs three @tasks, runs/min",
                        _f(chain["ours_per_min"], 1),
                        _f(chain["hand_per_min"], 1),
                        _f(chain["ratio"], 2),
                        ">= 0.9",
                        _met(ok_chain),
                    ]
                )
            tr, ts = thr.get("tasks_run_per_run", {}), thr.get("task_seconds_per_run", {})
            if tr:
                out.append(
                    [
                        "Throughput: task processes per run (task seconds per run)",
                        f"{tr.get('wfo_invoice')} ({_f(ts.get('wfo_invoice'), 1)} s)",
                        f"{tr.get('bench_hand_invoice')} ({_f(ts.get('bench_hand_invoice'), 1)} s)",
                        "",
                        "(info)",
                        "",
                    ]
                )
                if "bench_chain_wfo" in tr:
                    out.append(
                        [
                            "Throughput (chain): task processes per run (task seconds per run)",
                            f"{tr.get('bench_chain_wfo')} ({_f(ts.get('bench_chain_wfo'), 1)} s)",
                            f"{tr.get('bench_chain_hand')} ({_f(ts.get('bench_chain_hand'), 1)} s)",
                            "",
                            "(info)",
                            "",
                        ]
                    )
        else:
            targets["throughput"] = None
            out.append(
                [
                    "Throughput: invoice runs/min, 2 Celery workers",
                    "not measured in this run",
                    "",
                    "",
                    ">= 0.9",
                    "n/a",
                ]
            )
    results["targets_met"] = targets
    return out


HEADER = ["Metric", "Ours", "Baseline", "Ratio", "Target", "Met"]


def markdown_table(table: list[list[str]]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "|".join("---" for _ in HEADER) + "|"]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in table]
    return "\n".join(lines)


def text_table(table: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [HEADER, *table]) for i in range(len(HEADER))]
    fmt = "  ".join(f"{{:{w}}}" for w in widths)
    lines = [fmt.format(*HEADER), fmt.format(*["-" * w for w in widths])]
    lines += [fmt.format(*row) for row in table]
    return "\n".join(lines)


def machine_md(m: dict[str, Any]) -> str:
    return (
        f"* Machine: {m['nproc']} cores (`nproc`), CPU {m['cpu'] or '?'}, {m['memory']} RAM (`free -h`), "
        f"load average at start {m['loadavg_at_start']}, at end {m.get('loadavg_at_end', '-')}\n"
        f"* Python {m['python']}, Airflow {m['airflow']} (task-sdk {m['task_sdk']}), dag-factory "
        f"{m['dag_factory']}, airflow-provider-wfo {m['provider']}; {m['platform']}"
    )


def markdown(results: dict[str, Any], table: list[list[str]]) -> str:
    parts = [
        f"# Benchmark results ({results['finished']})",
        "",
        f"Command: `{results['command']}` ({results['duration_s']:.0f} s)",
        "",
        markdown_table(table),
        "",
        machine_md(results["machine"]),
        "",
    ]
    notes = results.get("notes") or []
    if notes:
        parts += ["## Notes", "", *[f"* {n}" for n in notes], ""]
    for key, title in (
        ("parse_profile", "Profile: one DagBag parse of our folder (cProfile)"),
        ("steps_profile", "Profile: the step benchmark (cProfile)"),
    ):
        prof = results.get(key)
        if prof:
            parts += [
                f"## {title}",
                "",
                "By cumulative time:",
                "",
                "```",
                prof["top_cumulative"],
                "```",
                "",
                "By own time:",
                "",
                "```",
                prof["top_tottime"],
                "```",
                "",
            ]
    thr = results.get("throughput")
    for dag_id, prof in ((thr or {}).get("profiles") or {}).items():
        if isinstance(prof, dict) and prof.get("samples"):
            parts += [
                f"## Profile: Celery workers, one batch of {dag_id} (py-spy, {prof['samples']} samples)",
                "",
                "Own samples:",
                "",
                "```",
                *prof["top_own"],
                "```",
                "",
                "Inclusive samples (frames in < 80 % of the stacks):",
                "",
                "```",
                *prof["top_inclusive"],
                "```",
                "",
                "Inclusive samples, airflow_provider_wfo frames:",
                "",
                "```",
                *prof.get("top_provider", []),
                "```",
                "",
                "Inclusive samples, module imports:",
                "",
                "```",
                *prof.get("top_imports", []),
                "```",
                "",
            ]
    if thr and not thr.get("measured"):
        parts += ["## Throughput", "", f"Not measured in this run: {thr.get('reason')}", ""]
    return "\n".join(parts)


def write(results: dict[str, Any], out_dir: Path) -> tuple[str, Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / "latest.json"
    md_path = out_dir / "latest.md"
    # The measurements first: a bug in the table must not lose a ten-minute run.
    json_path.write_text(json.dumps(results, indent=2, default=str) + "\n")
    table = rows(results)
    results["table"] = [dict(zip(HEADER, row, strict=True)) for row in table]
    json_path.write_text(json.dumps(results, indent=2, default=str) + "\n")
    md_path.write_text(markdown(results, table))
    return text_table(table), json_path, md_path


SECTIONS = ("parse", "parse_profile", "scaling", "steps", "steps_profile", "throughput")


def merge_previous(results: dict[str, Any], path: Path) -> dict[str, Any]:
    """Sections not run now are taken from the previous results (their timestamps are kept)."""
    try:
        previous = json.loads(path.read_text())
    except (OSError, ValueError):
        return results
    merged_from = []
    for key in SECTIONS:
        if (
            key == "throughput"
            and results.get(key, {}).get("measured") is False
            and not results["config"]["cluster"]
        ):
            if previous.get(key, {}).get("measured"):
                results[key] = previous[key]
                merged_from.append(key)
            continue
        if key not in results and key in previous:
            results[key] = previous[key]
            merged_from.append(key)
    if merged_from:
        results["notes"].append(
            f"sections {', '.join(merged_from)} come from the run started {previous.get('started')} "
            f"({previous.get('command')})"
        )
    return results
