"""Helpers the benchmark scripts share: thread setup, timing, load average, result files.

The scripts are run directly (``PYTHONPATH=src python benchmarks/<name>.py``), which puts
benchmarks/ first on ``sys.path``; they import these helpers as ``from common import ...``
(so not as ``python -m benchmarks.<name>``). Library code never imports this module.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np

from facerecon.atomic import write_text

#: iBUG 68-point index ranges of the face's parts, for per-part biases.
LANDMARK_PARTS = {"jaw": slice(0, 17), "chin": slice(8, 9), "brows": slice(17, 27),
                  "nose": slice(27, 36), "eyes": slice(36, 48), "mouth": slice(48, 68)}



def mouth_opening(points: np.ndarray, box: np.ndarray) -> np.ndarray:
    """(N,) inner lower lip (65-67) minus inner upper lip (61-63), mean y, % of ``box``.

    Args: points (N, 68, >=2) image coordinates (y down); box (N,) or scalar normaliser.
    """
    return (points[:, 65:68, 1].mean(1) - points[:, 61:64, 1].mean(1)) / box * 100


#: benchmarks/results, where each script writes ``<name>.json``.
RESULTS = Path(__file__).resolve().parent / "results"

_CPU_CLOCKS = {"thread": time.thread_time, "process": time.process_time}


def set_threads(n: int) -> None:
    """Use ``n`` threads in numba, OpenCV and torch, each only if the script imported it.

    (OpenMP/BLAS threads of numpy follow ``OMP_NUM_THREADS``, which must be set before numpy
    is imported, so it is set on the command line, not here.)
    """
    if "numba" in sys.modules:
        sys.modules["numba"].set_num_threads(n)
    if "cv2" in sys.modules:
        sys.modules["cv2"].setNumThreads(n)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(n)


def time_ms(fn: Callable[[], object], runs: int, warmup: int, cpu: str | None = None):
    """Call ``fn()`` ``warmup`` times untimed, then ``runs`` times timed.

    Args:
        cpu: also measure CPU time with this clock: ``"thread"`` (the calling thread, the work
            itself for single-threaded kernels) or ``"process"`` (all threads); None: wall only.

    Returns:
        (wall, cpu_times): float64 arrays of milliseconds, shape (runs,); cpu_times is None
        without ``cpu``.
    """
    for _ in range(warmup):
        fn()
    cpu_clock = _CPU_CLOCKS[cpu] if cpu is not None else None
    wall, cpu_times = [], []
    for _ in range(runs):
        start_cpu = cpu_clock() if cpu_clock else 0.0
        start = time.perf_counter()
        fn()
        wall.append(time.perf_counter() - start)
        if cpu_clock:
            cpu_times.append(cpu_clock() - start_cpu)
    wall_ms = np.asarray(wall) * 1e3
    return wall_ms, (np.asarray(cpu_times) * 1e3 if cpu_clock else None)


def median_ms(
    fn: Callable[[], object],
    runs: int,
    warmup: int = 5,
    *,
    cpu: str | None = None,
    percentiles: Mapping[str, float] | None = None,
    digits: int | None = 3,
) -> dict[str, float]:
    """Median wall-clock milliseconds of ``fn()`` after warm-up (see :func:`time_ms`).

    Returns:
        ``{"median_ms": ...}``, then one entry per ``percentiles`` item (key -> percentile
        of the wall times, e.g. ``{"p90_ms": 90}``), then ``"median_cpu_ms"`` when ``cpu``
        is given; values rounded to ``digits`` decimals (None: not rounded).
    """
    wall, cpu_times = time_ms(fn, runs, warmup, cpu)

    def ms(value) -> float:
        return float(value) if digits is None else round(float(value), digits)

    result = {"median_ms": ms(np.median(wall))}
    for key, q in (percentiles or {}).items():
        result[key] = ms(np.percentile(wall, q))
    if cpu_times is not None:
        result["median_cpu_ms"] = ms(np.median(cpu_times))
    return result


def median_table(cases: Mapping[str, Callable[[], object]], runs: int, warmup: int = 5,
                 **options) -> dict[str, dict[str, float]]:
    """:func:`median_ms` of every case, arranged by statistic:
    ``{"median_ms": {case: ...}, "median_cpu_ms": {case: ...}, ...}`` (options as there)."""
    table: dict[str, dict[str, float]] = {}
    for case, fn in cases.items():
        for key, value in median_ms(fn, runs, warmup, **options).items():
            table.setdefault(key, {})[case] = value
    return table


def load_average() -> float:
    """The 1-minute load average, rounded to 2 decimals (how busy the shared machine was)."""
    return round(os.getloadavg()[0], 2)


def machine() -> str:
    """One line for the JSON: architecture and CPU count, and that timings are noisy."""
    return f"{platform.machine()} {os.cpu_count()} cpus, shared with other jobs (timings noisy)"


def write_result(name: str, payload: dict, indent: int = 2, path: Path | None = None) -> str:
    """Write ``payload`` as JSON to benchmarks/results/<name>.json (or ``path``), atomically,
    and print it; returns the text. ``payload`` must hold the exact ``"command"`` that
    produced it (the project's rule for benchmark results)."""
    if "command" not in payload:
        raise KeyError(f"benchmark result {name!r} has no 'command' field")
    text = json.dumps(payload, indent=indent)
    write_text(path if path is not None else RESULTS / f"{name}.json", text + "\n")
    sys.stdout.write(text + "\n")
    return text


def add_aflw_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--data`` (an aflw2000-3d folder) and ``--teacher`` (the teacher-3ddfa folder;
    default: beside ``--data``, see :func:`teacher_folder`) to ``parser``."""
    parser.add_argument("--data", type=Path, required=True, help="an aflw2000-3d folder")
    parser.add_argument("--teacher", type=Path, default=None,
                        help="teacher-3ddfa folder (default: beside --data)")


def teacher_folder(args: argparse.Namespace) -> Path:
    """The teacher folder of :func:`add_aflw_arguments`' options."""
    return args.teacher or args.data.parent / "teacher-3ddfa"


def add_named_weights(parser: argparse.ArgumentParser, help_text: str) -> None:
    """Add ``--weights NAME=FILE [NAME=FILE ...]`` to ``parser``."""
    parser.add_argument("--weights", nargs="+", required=True, metavar="NAME=FILE",
                        help=help_text)


def named_weights(parser: argparse.ArgumentParser, items: list[str]) -> dict[str, Path]:
    """``NAME=FILE`` arguments as ``{name: path}`` in their order; a malformed item or a
    repeated name stops the program through ``parser.error``."""
    named: dict[str, Path] = {}
    for item in items:
        name, _, path = item.partition("=")
        if not name or not path or name in named:
            parser.error(f"--weights {item!r}: expected NAME=FILE with a new NAME")
        named[name] = Path(path)
    return named


def add_pipeline_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--surface-sigma NAME=SIGMA ...``, ``--second-pass NAME ...`` and
    ``--refine NAME=FILE ...``, per-weights pipeline settings read by
    :func:`pipeline_reconstructors`."""
    parser.add_argument("--surface-sigma", nargs="+", default=[], metavar="NAME=SIGMA",
                        help="smoothing of the named weights' maps (default: the model's own)")
    parser.add_argument("--second-pass", nargs="+", default=[], metavar="NAME",
                        help="named weights whose pipeline re-crops from its first landmarks")
    parser.add_argument("--refine", nargs="+", default=[], metavar="NAME=FILE",
                        help="a refiner network (.safetensors) for the named weights' pipeline")


def pipeline_reconstructors(parser: argparse.ArgumentParser, args: argparse.Namespace,
                            weights: Mapping[str, Path]) -> dict:
    """``{name: detector-less FaceReconstructor}`` for ``weights`` with the settings of
    :func:`add_pipeline_options`; a malformed value or an unknown name stops the program
    through ``parser.error``."""
    from facerecon.evaluate.predictors import make_reconstructor

    try:
        sigmas = {name: float(value) for name, _, value in
                  (item.partition("=") for item in args.surface_sigma)}
    except ValueError as error:
        parser.error(f"--surface-sigma: expected NAME=SIGMA ({error})")
    refiners = {name: Path(path) for name, _, path in
                (item.partition("=") for item in args.refine)}
    chosen = {"--surface-sigma": set(sigmas), "--second-pass": set(args.second_pass),
              "--refine": set(refiners)}
    for option, names in chosen.items():
        if not names <= set(weights):
            parser.error(f"{option} names {sorted(names - set(weights))}: no such weights")
    return {name: make_reconstructor(weights=path, surface_sigma=sigmas.get(name),
                                     second_pass=name in args.second_pass,
                                     refiner=refiners.get(name))
            for name, path in weights.items()}
