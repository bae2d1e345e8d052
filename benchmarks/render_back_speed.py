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
import sys

import numba
import numpy as np
from common import load_average, machine, median_table, set_threads, write_result

from facerecon.render.shading import render_colors, render_shaded, render_textured


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    set_threads(args.threads)

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
        "machine": machine(),
        "load_average_1min_at_start": load_average(),
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
    }
    result.update(median_table(cases, args.runs, cpu="thread"))
    write_result("render_back_speed", result)


if __name__ == "__main__":
    main()
