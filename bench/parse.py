"""Parse cost (ours vs hand-written vs dag-factory) and parse scaling (N definitions, K steps)."""

from __future__ import annotations

import json
import os
import py_compile
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench import gen
from bench.deps import dagfactory_path
from bench.env import PYTHON, ROOT
from bench.stats import loglog_slope, median, segment_slopes, spread

SIDES = ("ours", "hand", "dagfactory", "hand_min", "hand_empty")
#: Above this fitted exponent (or last-segment slope) growth is flagged as super-linear.
SUPERLINEAR = 1.15


class ChildError(RuntimeError):
    pass


def warm_folder(side: str, work: Path) -> Path:
    """A one-definition folder of ``side`` (two steps, one with a rollback) for the warm-up parse."""
    folder = work / f"warm-{side}"
    if not folder.exists():
        write_side(side, folder, [gen.definition(0, 2, rollback_every=2, prefix="bench_warm")])
    return folder


def run_child(
    side: str, folder: Path, env: dict[str, str], profile: Path | None = None, timeout: float = 1800
) -> dict[str, Any]:
    argv = [PYTHON, "-m", "bench.parse_child", side, str(folder)]
    if side == "dagfactory":  # dag-factory lives in bench/.deps, never in the product's .venv
        env = {**env, "PYTHONPATH": os.pathsep.join([env.get("PYTHONPATH", ""), str(dagfactory_path())])}
    warm = folder.parent / f"warm-{side}"
    if warm.exists():
        argv += ["--warm", str(warm)]
    if profile is not None:
        argv += ["--profile", str(profile)]
    proc = subprocess.run(
        argv, env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise ChildError(f"parse child {side} {folder} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(lines[-1])
    if result["import_errors"]:
        raise ChildError(f"{side}: import errors: {result['import_errors']}")
    return result


def write_side(side: str, folder: Path, defns: list[dict[str, Any]]) -> None:
    gen.WRITERS[side](folder, defns)
    # Compile the hand-written file now: the dag-processor finds its .pyc from the second parse on,
    # and the first measured run must not pay a one-off compile that the others do not.
    for py in folder.glob("*.py"):
        py_compile.compile(str(py), doraise=True)


def verify(ours: Path, hand: Path, env: dict[str, str]) -> None:
    proc = subprocess.run(
        [PYTHON, "-m", "bench.parse_child", "--verify", str(ours), str(hand)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if proc.returncode != 0:
        raise ChildError(
            f"hand-written graph differs from the generated one:\n{proc.stdout}{proc.stderr[-2000:]}"
        )


def alternate(
    jobs: Sequence[tuple[str, Callable[[], dict[str, Any]]]], reps: int, say: Callable[[str], None]
) -> dict[str, list[dict[str, Any]]]:
    """Run every job once per round, in the same order each round (ABCABC...), so slow phases of a
    noisy machine hit every side alike."""
    out: dict[str, list[dict[str, Any]]] = {name: [] for name, _ in jobs}
    for rep in range(reps):
        for name, job in jobs:
            result = job()
            out[name].append(result)
            say(f"  round {rep + 1}/{reps} {name}: parse {result['parse_s']:.3f} s")
    return out


def summarize(samples: list[dict[str, Any]]) -> dict[str, Any]:
    parse = [s["parse_s"] for s in samples]
    return {
        "parse_s": median(parse),
        "parse_samples": parse,
        "parse_spread": spread(parse),
        "parse_cpu_s": median([s["parse_cpu_s"] for s in samples]),
        "side_import_s": median([s["side_import_s"] for s in samples]),
        "serialize_s": median([s["serialize_s"] for s in samples]),
        "cold_s": median([s["side_import_s"] + s["parse_s"] for s in samples]),
        "airflow_import_s": median([s["airflow_import_s"] for s in samples]),
        "dags": samples[0]["dags"],
        "tasks": samples[0]["tasks"],
    }


def parse_compare(
    work: Path, env: dict[str, str], n: int, k: int, reps: int, say: Callable[[str], None]
) -> dict[str, Any]:
    defns = gen.parse_set(n, k)
    folders = {side: work / f"parse-{side}" for side in SIDES}
    for side in SIDES:
        write_side(side, folders[side], defns)
        warm_folder(side, work)
    verify(folders["ours"], folders["hand"], env)
    verify(folders["ours"], folders["hand_min"], env)
    verify(folders["ours"], folders["hand_empty"], env)
    say(f"parse: N={n} K={k}, graphs verified identical (ours vs hand-written); {reps} rounds")
    jobs = [(side, _job(side, folders[side], env)) for side in SIDES]
    samples = alternate(jobs, reps, say)
    sides = {side: summarize(samples[side]) for side in SIDES}
    ours, hand, dagf, hand_min, hand_empty = (sides[s] for s in SIDES)
    return {
        "n": n,
        "k": k,
        "reps": reps,
        "sides": sides,
        "ratio_hand": ours["parse_s"] / hand["parse_s"],
        "ratio_dagfactory": ours["parse_s"] / dagf["parse_s"],
        "ratio_hand_min": ours["parse_s"] / hand_min["parse_s"],
        "ratio_hand_empty": ours["parse_s"] / hand_empty["parse_s"],
        "ratio_hand_empty_cpu": ours["parse_cpu_s"] / hand_empty["parse_cpu_s"],
        "ratio_hand_cpu": ours["parse_cpu_s"] / hand["parse_cpu_s"],
        "ratio_dagfactory_cpu": ours["parse_cpu_s"] / dagf["parse_cpu_s"],
        "ratio_hand_cold": ours["cold_s"] / hand["cold_s"],
        # The dag-processor parses every file in a fresh fork of its manager, which pre-imports only
        # the ``airflow.*`` modules a DAG file imports: the hand-written file's imports come free, the
        # provider's and dag-factory's are paid on every parse.
        "ratio_hand_dagprocessor": ours["cold_s"] / hand["parse_s"],
        "ratio_dagfactory_cold": ours["cold_s"] / dagf["cold_s"],
        "ratio_hand_with_serialize": (ours["parse_s"] + ours["serialize_s"])
        / (hand["parse_s"] + hand["serialize_s"]),
        "folders": {side: str(folders[side]) for side in SIDES},
    }


def _job(side: str, folder: Path, env: dict[str, str]) -> Callable[[], dict[str, Any]]:
    return lambda: run_child(side, folder, env)


def scaling(
    work: Path,
    env: dict[str, str],
    ns: Sequence[int],
    ks: Sequence[int],
    reps: int,
    say: Callable[[str], None],
    reference: bool = True,
    reference_axes: Sequence[str] = ("K",),
) -> dict[str, Any]:
    """Ours (and the hand-written reference, which shows Airflow's own growth) for N definitions of
    10 steps and for one definition of K steps."""
    out: dict[str, Any] = {"reps": reps, "series": {}}
    for axis, sizes, make in (
        ("N", ns, lambda size: gen.parse_set(size, 10)),
        ("K", ks, lambda size: gen.single_set(size)),
    ):
        # The reference matters where a graph could grow badly (steps, edges); it is skipped for N to
        # keep the default run short.
        sides = ("ours", "hand") if reference and axis in reference_axes else ("ours",)
        series: dict[str, Any] = {side: [] for side in sides}
        for size in sizes:
            defns = make(size)
            jobs = []
            for side in sides:
                folder = work / f"scale-{axis}{size}-{side}"
                write_side(side, folder, defns)
                warm_folder(side, work)
                jobs.append((side, _job(side, folder, env)))
            say(f"scaling: {axis}={size}")
            samples = alternate(jobs, reps, say)
            for side in sides:
                summary = summarize(samples[side])
                series[side].append(
                    {
                        "size": size,
                        "parse_s": summary["parse_s"],
                        "side_import_s": summary["side_import_s"],
                        "cold_s": summary["cold_s"],
                        "serialize_s": summary["serialize_s"],
                        "tasks": summary["tasks"],
                        "spread": summary["parse_spread"],
                    }
                )
        fits: dict[str, Any] = {}
        for side in sides:
            pts = series[side]
            xs = [p["size"] for p in pts]
            parse = [p["parse_s"] for p in pts]
            total = [p["parse_s"] + p["serialize_s"] for p in pts]
            slope = loglog_slope(xs, parse)
            segments = segment_slopes(xs, parse)
            fits[side] = {
                "exponent": slope,
                "segments": segments,
                "exponent_with_serialize": loglog_slope(xs, total),
                "segments_with_serialize": segment_slopes(xs, total),
                "superlinear": slope > SUPERLINEAR or (bool(segments) and segments[-1] > SUPERLINEAR),
            }
        out["series"][axis] = {"points": series, "fits": fits}
    return out


def profile_ours(work: Path, env: dict[str, str], folder: Path, top: int = 25) -> dict[str, Any]:
    """cProfile of one DagBag parse of our folder: the top entries by cumulative and by own time."""
    import io
    import pstats

    out = work / "parse-ours.prof"
    run_child("ours", folder, env, profile=out)
    text: dict[str, str] = {}
    for key in ("cumulative", "tottime"):
        buf = io.StringIO()
        stats = pstats.Stats(str(out), stream=buf)
        stats.strip_dirs().sort_stats(key).print_stats(top)
        text[key] = _trim_pstats(buf.getvalue())
    return {"file": str(out), "top_cumulative": text["cumulative"], "top_tottime": text["tottime"]}


def _trim_pstats(text: str) -> str:
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.strip().startswith("ncalls"):
            return "\n".join(lines[i:]).rstrip()
    return text.rstrip()
