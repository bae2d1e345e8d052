"""Speed of the z-buffer rasteriser on synthetic meshes of the sizes the pipeline uses.

Cases: (1) a 256x256 UV render of a grid mesh over a disc mask filling ~2/3 of the square
(~44k vertices, ~87k triangles, like PRN's UV topology), with xyz attributes as the
position-map encoder renders them; (2) a 1024x1024 image render of a 40k-triangle curved
face-sized patch (~520x640 px). Median of --runs after warm-up, numba with --threads threads.

Run: PYTHONPATH=src OMP_NUM_THREADS=2 python benchmarks/render_speed.py
Writes benchmarks/results/render_speed.json and prints the same JSON.
"""

from __future__ import annotations

import argparse
import sys

import numba
import numpy as np
from common import load_average, machine, median_table, set_threads, write_result

from facerecon.render.rasterize import rasterize


def grid_triangles(valid: np.ndarray) -> np.ndarray:
    """Two triangles per grid cell whose three corners are all valid; (M, 3) int32."""
    rows, cols = valid.shape
    index = np.full(valid.shape, -1, dtype=np.int64)
    index[valid] = np.arange(int(valid.sum()))
    a, b = index[:-1, :-1], index[:-1, 1:]
    c, d = index[1:, :-1], index[1:, 1:]
    tris = np.concatenate(
        [np.stack([a, c, b], -1).reshape(-1, 3), np.stack([b, c, d], -1).reshape(-1, 3)]
    )
    return tris[(tris >= 0).all(axis=1)].astype(np.int32)


def uv_disc_mesh(size: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """Grid mesh over a centred disc covering ~2/3 of a size x size square, at its UV pixels."""
    r, c = np.mgrid[0:size, 0:size].astype(np.float32)
    radius = size * np.sqrt(0.67 / np.pi)
    valid = (r - (size - 1) / 2) ** 2 + (c - (size - 1) / 2) ** 2 <= radius**2
    z = np.sqrt(np.maximum(radius**2 - (r - size / 2) ** 2 - (c - size / 2) ** 2, 0))
    vertices = np.stack([c[valid], r[valid], z[valid]], axis=1)
    return vertices, grid_triangles(valid)


def face_patch_mesh(n_triangles: int = 40_000, image: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """A curved (ellipsoid cap) grid patch ~0.5 x 0.62 of the image with ~n_triangles."""
    side = int(round(np.sqrt(n_triangles / 2))) + 1
    u, v = np.meshgrid(np.linspace(-1, 1, side), np.linspace(-1, 1, side))
    half_w, half_h = 0.25 * image, 0.31 * image
    x = image / 2 + half_w * u
    y = image / 2 + half_h * v
    z = 0.3 * image * np.sqrt(np.maximum(1.2 - u**2 - v**2, 0.0))
    vertices = np.stack([x, y, z], axis=-1).reshape(-1, 3).astype(np.float32)
    return vertices, grid_triangles(np.ones((side, side), dtype=bool))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    set_threads(args.threads)

    uv_vertices, uv_triangles = uv_disc_mesh(256)
    face_vertices, face_triangles = face_patch_mesh(40_000, 1024)
    cases = {
        "uv_256_xyz": lambda: rasterize(uv_vertices, uv_triangles, 256, 256, uv_vertices),
        "uv_256_depth_only": lambda: rasterize(uv_vertices, uv_triangles, 256, 256),
        "image_1024_depth_only": lambda: rasterize(face_vertices, face_triangles, 1024, 1024),
        "image_1024_xyz": lambda: rasterize(
            face_vertices, face_triangles, 1024, 1024, face_vertices
        ),
    }
    result = {
        "command": "PYTHONPATH=src OMP_NUM_THREADS=2 python benchmarks/render_speed.py",
        "statistic": f"median of {args.runs} runs after 5 warm-up runs, milliseconds "
        "(median_ms: wall clock; median_cpu_ms: CPU time of the calling thread)",
        "numba_threads": args.threads,
        "machine": machine(),
        "load_average_1min_at_start": load_average(),
        "python": sys.version.split()[0],
        "numba": numba.__version__,
        "meshes": {
            "uv_256": {"vertices": len(uv_vertices), "triangles": len(uv_triangles)},
            "image_1024": {"vertices": len(face_vertices), "triangles": len(face_triangles)},
        },
        "targets_ms": {"uv_256_xyz": 3.0, "image_1024_depth_only": 40.0},
    }
    covered = rasterize(face_vertices, face_triangles, 1024, 1024).mask.sum()
    result["meshes"]["image_1024"]["covered_pixels"] = int(covered)
    result.update(median_table(cases, args.runs, cpu="thread"))
    write_result("render_speed", result)


if __name__ == "__main__":
    main()
