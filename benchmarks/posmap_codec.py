"""Speed and landmark accuracy of the position-map codec (encode / decode) at 256 and 128.

Speed: median of --runs after 5 warm-up runs, batch 1 and batch 16, numpy with the threads
set by OMP_NUM_THREADS (2). Accuracy: --faces random ICT faces (identity N(0,1), expression
U[0,1]) at random poses (yaw U[-90,90], pitch U[-35,35], roll U[-40,40], scale U[0.7,1.2],
shift U[-25,25] px in a crop of the map's size), 3D distance between the decoded landmarks
and ICT's 68 landmark vertices, in pixels of that crop.

Run (from the repository root):
    PYTHONPATH=src OMP_NUM_THREADS=2 python benchmarks/posmap_codec.py \
        --ict ../shared/data/ict-facekit/FaceXModel
Writes benchmarks/results/posmap_codec.json and prints the same JSON.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np
from common import load_average, machine, median_ms, write_result

from facerecon.data.synthetic import random_posed_ict_face
from facerecon.morphable.ict import load_ict
from facerecon.posmap import decode, encode
from facerecon.topology import load_topology


def wall_ms(fn, runs: int) -> float:
    return median_ms(fn, runs)["median_ms"]


def measure(model, resolution: int, runs: int, faces: int, seed: int) -> dict:
    topology = load_topology(resolution)
    rng = np.random.default_rng(seed)
    errors = []
    for _ in range(faces):
        vertices = random_posed_ict_face(model, topology, rng)
        decoded = decode(encode(vertices, topology), topology)
        errors.append(np.linalg.norm(decoded.landmarks - vertices[model.landmark_indices],
                                     axis=1))
    errors = np.concatenate(errors)
    one = random_posed_ict_face(model, topology, rng)
    batch = np.stack([random_posed_ict_face(model, topology, rng) for _ in range(16)])
    posmap, posmaps = encode(one, topology), encode(batch, topology)
    return {
        "valid_pixels": topology.vertex_count,
        "grid_triangles": int(len(topology.triangles)),
        "landmark_error_px": {"mean": round(float(errors.mean()), 4),
                              "p95": round(float(np.percentile(errors, 95)), 4),
                              "max": round(float(errors.max()), 4)},
        "median_ms": {
            "encode_b1": wall_ms(lambda: encode(one, topology), runs),
            "decode_b1": wall_ms(lambda: decode(posmap, topology), runs),
            "encode_b16": wall_ms(lambda: encode(batch, topology), runs),
            "decode_b16": wall_ms(lambda: decode(posmaps, topology), runs),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ict", type=Path, required=True, help="ICT-FaceKit FaceXModel folder")
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--faces", type=int, default=50)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    model = load_ict(args.ict)
    result = {
        "command": "PYTHONPATH=src OMP_NUM_THREADS=2 python benchmarks/posmap_codec.py "
                   "--ict ../shared/data/ict-facekit/FaceXModel",
        "statistic": f"median of {args.runs} runs after 5 warm-up runs, wall clock ms; "
                     f"landmark errors over {args.faces} random faces x 68 (3D, crop px)",
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        "machine": machine(),
        "load_average_1min_at_start": load_average(),
        "resolutions": {str(size): measure(model, size, args.runs, args.faces, args.seed)
                        for size in (256, 128)},
    }
    write_result("posmap_codec", result)


if __name__ == "__main__":
    main()
