"""Speed of the mesh writers and readers on a PRN-sized face mesh; prints and writes JSON.

The mesh is a 210 x 210 vertex grid (44,100 vertices, 87,362 triangles: about the ~43.9k
valid pixels of PRN's 256 x 256 position map) with colours, uvs and a 256 x 256 texture.
Each operation: 3 warm-up runs, then the median (and quartiles) of ``--runs`` timed runs,
files written to a temporary folder. Run:

    PYTHONPATH=src OMP_NUM_THREADS=2 python benchmarks/mesh_export.py --runs 50
"""

from __future__ import annotations

import argparse
import platform
import tempfile
from pathlib import Path

import numpy as np
from common import median_ms, write_result

from facerecon.mesh import (
    Mesh,
    pixel_to_uv,
    read_glb,
    read_obj,
    read_ply,
    write_glb,
    write_obj,
    write_ply,
    write_textured_obj,
)

GRID = 210


def face_sized_mesh() -> Mesh:
    rng = np.random.default_rng(0)
    row, col = np.mgrid[0:GRID, 0:GRID]
    z = 60.0 * np.exp(-((row - GRID / 2) ** 2 + (col - GRID / 2) ** 2) / (GRID**2 / 8))
    vertices = np.stack([col * 1.2 + 20, row * 1.2 + 10, z], axis=-1).reshape(-1, 3)
    index = np.arange(GRID * GRID).reshape(GRID, GRID)
    tl, tr, bl, br = index[:-1, :-1], index[:-1, 1:], index[1:, :-1], index[1:, 1:]
    triangles = np.concatenate(
        [np.stack([tl, bl, tr], -1).reshape(-1, 3), np.stack([tr, bl, br], -1).reshape(-1, 3)]
    )
    pixels = np.stack([col, row], axis=-1).reshape(-1, 2) * (255.0 / (GRID - 1))
    return Mesh(
        vertices=vertices,
        triangles=triangles,
        colors=rng.uniform(0, 1, (GRID * GRID, 3)),
        uvs=pixel_to_uv(pixels, (256, 256)),
        texture=rng.integers(0, 256, (256, 256, 3), dtype=np.uint8),
    )


def timed(function, runs: int) -> dict:
    return median_ms(function, runs, 3, percentiles={"q1_ms": 25, "q3_ms": 75}, digits=2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    mesh = face_sized_mesh()
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        operations = {
            "write_obj": lambda: write_obj(mesh, out / "face.obj"),
            "write_textured_obj": lambda: write_textured_obj(mesh, out / "textured.obj"),
            "write_ply": lambda: write_ply(mesh, out / "face.ply"),
            "write_glb": lambda: write_glb(mesh, out / "face.glb"),
            "read_obj": lambda: read_obj(out / "face.obj"),
            "read_textured_obj": lambda: read_obj(out / "textured.obj"),
            "read_ply": lambda: read_ply(out / "face.ply"),
            "read_glb": lambda: read_glb(out / "face.glb"),
        }
        for name, function in operations.items():
            results[name] = timed(function, args.runs)
        sizes = {p.name: p.stat().st_size for p in sorted(out.iterdir())}
    report = {
        "benchmark": "mesh_export",
        "command": "PYTHONPATH=src OMP_NUM_THREADS=2 python benchmarks/mesh_export.py "
        f"--runs {args.runs}",
        "mesh": {"vertices": mesh.num_vertices, "triangles": mesh.num_triangles,
                 "texture": list(mesh.texture.shape), "colors": True, "uvs": True},  # fmt: skip
        "method": f"3 warm-up runs, then median and quartiles of {args.runs} runs, wall clock",
        "machine": f"{platform.machine()}, Python {platform.python_version()}, shared 2-core "
        "development machine (timings noisy)",
        "file_bytes": sizes,
        "results": results,
    }
    write_result("mesh_export", report)


if __name__ == "__main__":
    main()
