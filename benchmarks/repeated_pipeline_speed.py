"""benchmarks/pipeline_speed.py run several times, each in a fresh process, JSON out.

One `pipeline_speed.py` run gives medians over its own --runs calls, but the host's speed
drifts between runs by more than those medians' spread (session 16: 10.53 to 10.91 ms per
face for the same code, 9.92 later). A decision on a speed line therefore takes the median
over repeated runs: this script starts ``pipeline_speed.py`` ``--times`` times one after
another (each its own process, as a user's would be), keeps every run's stage medians and
load average, and reports per stage the median over the runs with its range.

    PYTHONPATH=src OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=1 python \\
        benchmarks/repeated_pipeline_speed.py --times 10 -- --runs 150 --refine

Arguments after ``--`` go to ``pipeline_speed.py`` (not ``--name`` or ``--out``: its runs'
own JSON files go to a temporary folder). Writes ``<--name>.json`` (default
``pipeline_speed_repeated[_flip][_refine]``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from common import write_result

SCRIPT = Path(__file__).resolve().parent / "pipeline_speed.py"
COMMAND = ("PYTHONPATH=src OMP_NUM_THREADS=2 {blas}python benchmarks/repeated_pipeline_speed.py "
           "--times {times}{name} -- {passed}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--times", type=int, default=10, help="pipeline_speed.py runs")
    parser.add_argument("--name", default=None, help="result name (no .json)")
    parser.add_argument("passed", nargs=argparse.REMAINDER,
                        help="-- then pipeline_speed.py's own arguments")
    args = parser.parse_args()
    passed = args.passed[1:] if args.passed[:1] == ["--"] else args.passed
    if args.times < 1:
        parser.error("--times must be >= 1")
    if "--name" in passed or "--out" in passed:
        parser.error("pass --name to this script; pipeline_speed.py's --out is set here")

    runs = []
    with tempfile.TemporaryDirectory() as folder:
        for index in range(args.times):
            result_path = Path(folder) / f"run{index}.json"
            subprocess.run([sys.executable, str(SCRIPT), *passed, "--out", str(result_path)],
                           check=True, stdout=subprocess.DEVNULL)
            runs.append(json.loads(result_path.read_text()))
            per_face = runs[-1]["stages_batch1"]["per_face_after_detection"]["median_ms"]
            print(f"run {index + 1}/{args.times}: per face {per_face} ms", file=sys.stderr)

    stages = {}
    for stage in runs[0]["stages_batch1"]:
        values = [run["stages_batch1"][stage]["median_ms"] for run in runs]
        stages[stage] = {"median_of_run_medians_ms": round(float(np.median(values)), 3),
                         "min_ms": min(values), "max_ms": max(values), "runs_ms": values}
    blas = os.environ.get("OPENBLAS_NUM_THREADS")
    flip = runs[0]["model"].endswith("+flip")  # FlipAveragedPredictor's name
    refine = runs[0]["refiner"] is not None
    name = args.name or "pipeline_speed_repeated" + ("_flip" if flip else "") + (
        "_refine" if refine else "")
    result = {
        "command": COMMAND.format(
            blas=f"OPENBLAS_NUM_THREADS={blas} " if blas else "", times=args.times,
            name=f" --name {args.name}" if args.name else "", passed=" ".join(passed)),
        "runs_of_pipeline_speed": args.times,
        "pipeline_speed_command": runs[0]["command"],
        "model": runs[0]["model"],
        "refiner": runs[0]["refiner"],
        "surface_sigma": runs[0]["surface_sigma"],
        "threads": runs[0]["threads"],
        "runs_per_stage": runs[0]["runs"],
        "torch": runs[0]["torch"],
        "openblas_num_threads": blas,
        "load_average_1_5_15_per_run": [run["load_average_1_5_15"] for run in runs],
        "stages_batch1": stages,
        "batch16_per_run": [run["batch16"] for run in runs],
    }
    write_result(name, result, indent=1)


if __name__ == "__main__":
    main()
