"""``python -m bench`` (or ``bench/run``): parse cost, parse scaling, step overhead and, with
``--cluster``, throughput on the distributed stack. Prints the table and writes
``bench/results/latest.json`` and ``bench/results/latest.md``. Targets are recorded, never enforced:
the exit code is 0 whenever the measurements ran."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from bench import env, gen, parse, report, steps

RESULTS = Path(__file__).resolve().parent / "results"


def _say(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="small sizes, 1-2 rounds: a smoke run (~3 min)")
    p.add_argument("--n", type=int, default=500, help="definitions in the parse comparison (500)")
    p.add_argument("--k", type=int, default=10, help="steps per definition in the parse comparison (10)")
    p.add_argument("--parse-reps", type=int, default=5, help="alternated rounds of the parse comparison (5)")
    p.add_argument("--scale-n", default="10,100,1000", help="N sizes of the scaling series")
    p.add_argument("--scale-k", default="10,100,1000,5000", help="K sizes of the scaling series")
    p.add_argument("--scale-reps", type=int, default=3, help="alternated rounds per scaling size (3)")
    p.add_argument("--no-reference", action="store_true", help="scaling without the hand-written reference")
    p.add_argument(
        "--reference-axes", default="K", help="axes with the hand-written reference (K; N,K for both)"
    )
    p.add_argument("--step-rounds", type=int, default=5, help="alternated dag.test rounds (5)")
    p.add_argument("--only", default="parse,scaling,steps", help="sections to run (parse,scaling,steps)")
    p.add_argument("--cluster", action="store_true", help="also measure throughput on the Celery stack")
    p.add_argument("--cluster-runs", type=int, default=24, help="runs per throughput batch (24)")
    p.add_argument(
        "--cluster-dagfactory-plugin",
        action="store_true",
        help="leave dag-factory's telemetry plugin (installed by the bench extra) active on the stack",
    )
    p.add_argument("--cluster-rounds", type=int, default=3, help="alternated throughput batches (3)")
    p.add_argument(
        "--profile",
        choices=("auto", "always", "never"),
        default="auto",
        help="cProfile our side when a target is missed (auto)",
    )
    p.add_argument("--out", type=Path, default=RESULTS, help="where latest.json / latest.md go")
    p.add_argument("--keep", action="store_true", help="keep the temporary work folder")
    p.add_argument(
        "--merge", action="store_true", help="keep the sections of the previous latest.json not run now"
    )
    args = p.parse_args(argv)
    if args.quick:
        args.n, args.parse_reps = 50, 2
        args.scale_n, args.scale_k, args.scale_reps = "10,100", "10,100,500", 1
        args.step_rounds = 1
        args.cluster_runs, args.cluster_rounds = 4, 1
    sections = set(args.only.split(","))

    started = time.time()
    work = env.make_home("wfo-bench-")
    _say(f"work folder {work}")
    results: dict[str, Any] = {
        "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": "python -m bench " + " ".join(argv if argv is not None else sys.argv[1:]),
        "machine": env.machine(),
        "config": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "notes": [],
    }
    try:
        lib = gen.write_lib(work / "lib")
        home = work / "parse-home"
        home.mkdir()
        child_env = env.airflow_env(home, home / "dags", [lib])

        def section(name: str, run: Any) -> None:
            # One failing section must not lose the others: its error goes into the results.
            try:
                run()
            except Exception as exc:
                _say(f"{name}: FAILED: {type(exc).__name__}: {exc}")
                results["notes"].append(f"section {name} failed: {type(exc).__name__}: {str(exc)[:1500]}")
                results.setdefault("errors", {})[name] = f"{type(exc).__name__}: {exc}"

        def run_parse() -> None:
            results["parse"] = parse.parse_compare(work, child_env, args.n, args.k, args.parse_reps, _say)
            missed = (
                results["parse"]["ratio_hand"] > report.TARGETS["parse_vs_hand"]
                or results["parse"]["ratio_dagfactory"] > report.TARGETS["parse_vs_dagfactory"]
            )
            if args.profile == "always" or (args.profile == "auto" and missed):
                _say("parse: profiling our side (cProfile)")
                results["parse_profile"] = parse.profile_ours(work, child_env, work / "parse-ours")

        def run_scaling() -> None:
            results["scaling"] = parse.scaling(
                work,
                child_env,
                _ints(args.scale_n),
                _ints(args.scale_k),
                args.scale_reps,
                _say,
                reference=not args.no_reference,
                reference_axes=args.reference_axes.split(","),
            )

        def run_steps() -> None:
            results["steps"] = steps.step_overhead(work, args.step_rounds, _say)
            missed = results["steps"]["ratio_per_step"] > report.TARGETS["step_overhead"]
            if args.profile == "always" or (args.profile == "auto" and missed):
                _say("steps: profiling the saga tasks of one run (cProfile)")
                results["steps_profile"] = steps.profile_ours(work, _say)

        for name, run in (("parse", run_parse), ("scaling", run_scaling), ("steps", run_steps)):
            if name in sections:
                section(name, run)
        if args.cluster:
            from bench import cluster

            results["throughput"] = cluster.throughput(
                work,
                _say,
                runs=args.cluster_runs,
                rounds=args.cluster_rounds,
                profile=args.profile,
                dagfactory_plugin=args.cluster_dagfactory_plugin,
            )
        else:
            results["throughput"] = {
                "measured": False,
                "reason": "not requested (run `python -m bench --cluster`; it brings up scripts/cluster's "
                "Celery stack on this machine's Postgres and Redis, ~6 min)",
            }
    finally:
        if not args.keep:
            env.remove_home(work)
    if args.merge:
        results = report.merge_previous(results, args.out / "latest.json")
    with contextlib.suppress(OSError):
        results["machine"]["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    results["finished"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    results["duration_s"] = time.time() - started
    table, json_path, md_path = report.write(results, args.out)
    print(table)
    print(f"\nwritten: {json_path}, {md_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
