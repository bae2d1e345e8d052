"""Speed of rendering a face mesh back into a 512x512 photo: colours, texture, Lambert shading.

The mesh is a synthetic face-sized ellipsoid cap: a 200x200 vertex grid (40k vertices, ~79k
triangles) covering ~300x370 pixels of a 512x512 image, with per-vertex colours, uvs over a
256x256 texture and consistent front-facing winding. Median of --runs after warm-up; the
kernels are single-threaded numba (numba still set to --threads for the record).

Run: PYTHONPATH=src OMP_NUM_THREADS=2 python benchmarks/render_back_speed.py
Writes benchmarks/results/render_back_speed.json and prints the same JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numba
import numpy as np

from facerecon.atomic import atomic_path
from facerecon.render.shading import render_colors, render_shaded, render_textured

RESULTS = Path(__file__).resolve().parent / "results" / "render_back_speed.json"


def face_mesh(side: int = 200, image: int = 512):
    """(vertices, triangles, uvs) of an ellipsoid cap; grid triangles are front-facing."""
    t = np.linspace(-1, 1, side)
    u, v = np.meshgrid(t, t)
    x = image / 2 + 0.29 * image * u
    y = image / 2 + 0.36 * image * v
    z = 0.3 * image * np.sqrt(np.maximum(1.3 - u**2 - v**2, 0.0))
    vertices = np.stack([x, y, z], -1).reshape(-1, 3).astype(np.float32)
    idx = np.arange(side * side).reshape(side, side)
    a, b, c, d = idx[:-1, :-1], idx[:-1, 1:], idx[1:, :-1], idx[1:, 1:]
    triangles = np.concatenate([np.stack([a, c, b], -1), np.stack([b, c, d], -1)]).reshape(-1, 3)
    uvs = np.stack([(u + 1) / 2, 1 - (v + 1) / 2], -1).reshape(-1, 2).astype(np.float32)
    return vertices, triangles.astype(np.int32), uvs


def median_ms(fn, runs: int, warmup: int = 5) -> tuple[float, float]:
    """Median wall-clock and median CPU (this thread) milliseconds of ``fn()``.

    The kernels are single-threaded, so CPU time is the work itself; wall time also counts
    waiting for a core, which on the shared machine can dominate.
    """
    for _ in range(warmup):
        fn()
    wall, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.thread_time()
        fn()
        cpu.append(time.thread_time() - start_cpu)
        wall.append(time.perf_counter() - start)
    return round(float(np.median(wall) * 1e3), 3), round(float(np.median(cpu) * 1e3), 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    numba.set_num_threads(args.threads)

    rng = np.random.default_rng(0)
    vertices, triangles, uvs = face_mesh()
    colors = rng.uniform(0, 1, (len(vertices), 3)).astype(np.float32)
    texture = rng.integers(0, 256, (256, 256, 3), dtype=np.uint8)
    photo = rng.integers(0, 256, (512, 512, 3), dtype=np.uint8)
    cases = {
        "render_colors": lambda: render_colors(vertices, triangles, colors, photo),
        "render_textured": lambda: render_textured(vertices, triangles, uvs, texture, photo),
        "render_shaded": lambda: render_shaded(vertices, triangles, 512, 512),
    }
    _, mask = render_shaded(vertices, triangles, 512, 512)
    result = {
        "command": "PYTHONPATH=src OMP_NUM_THREADS=2 python benchmarks/render_back_speed.py",
        "statistic": f"median of {args.runs} runs after 5 warm-up runs, milliseconds "
        "(median_ms: wall clock; median_cpu_ms: CPU time of the calling thread)",
        "numba_threads": args.threads,
        "machine": f"{platform.machine()} {os.cpu_count()} cpus, shared with other jobs "
        "(timings noisy)",
        "load_average_1min_at_start": round(os.getloadavg()[0], 2),
        "python": sys.version.split()[0],
        "numba": numba.__version__,
        "mesh": {
            "vertices": len(vertices),
            "triangles": len(triangles),
            "image": [512, 512],
            "covered_pixels": int(mask.sum()),
            "texture": [256, 256],
        },
        "target_ms": 15.0,
        "median_ms": {},
        "median_cpu_ms": {},
    }
    for name, fn in cases.items():
        result["median_ms"][name], result["median_cpu_ms"][name] = median_ms(fn, args.runs)
    text = json.dumps(result, indent=2)
    with atomic_path(RESULTS) as tmp:
        tmp.write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
