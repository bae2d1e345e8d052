"""Speed of the texture applications: UV texture, hidden-texel filling, swap, edit, pictures.

Synthetic scenes (benchmarks/texture_scenes.py): 512x512 photos of ICT faces about 300 px
tall (source at yaw -20, target at yaw 25), the packaged 256 topology (57,879 vertices,
114,683 triangles). Median of --runs after 3 warm-up runs, 2 threads (numba, OpenCV, torch
unused); wall clock and process CPU time.

    PYTHONPATH=src OMP_NUM_THREADS=2 python benchmarks/texture_speed.py \
        --ict ../shared/data/ict-facekit/FaceXModel

Writes benchmarks/results/texture_speed.json and prints the same JSON.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np
from common import load_average, machine, median_ms, set_threads, write_result
from texture_scenes import make_scene

from facerecon.apps.depth import depth_image
from facerecon.apps.draw import depth_colormap, draw_overlay
from facerecon.apps.edit import edit_region
from facerecon.apps.pose import estimate_pose
from facerecon.apps.swap import face_texture, swap_face
from facerecon.apps.texture import face_uvs, fill_hidden, uv_texture
from facerecon.apps.viewer import viewer_html
from facerecon.mesh import Mesh
from facerecon.morphable.ict import load_ict
from facerecon.posmap import decode
from facerecon.topology import load_topology

COMMAND = ("PYTHONPATH=src OMP_NUM_THREADS=2 python benchmarks/texture_speed.py "
           "--ict ../shared/data/ict-facekit/FaceXModel")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ict", type=Path, required=True, help="ICT-FaceKit FaceXModel folder")
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    set_threads(args.threads)

    model, topology = load_ict(args.ict), load_topology(256)
    source = make_scene(model, topology, seed=7, yaw=-20, pitch=-5, tone=(150, 100, 75))
    target = make_scene(model, topology, seed=4, yaw=25, pitch=5, tone=(225, 180, 150))
    sampled = uv_texture(source.image, source.posmap, topology)
    texture = face_texture(source.image, source.posmap, topology)
    decoded = decode(target.posmap, topology)
    pose = estimate_pose(decoded.vertices, decode(topology.canonical_posmap, topology).vertices)
    depth = depth_image(decoded.vertices, topology.triangles, 512, 512, background=np.nan)
    mesh = Mesh(decoded.vertices, topology.triangles, uvs=face_uvs(topology), texture=texture)
    visible = np.ones(68, bool)

    cases = {
        "uv_texture_256": lambda: uv_texture(source.image, source.posmap, topology),
        "uv_texture_512": lambda: uv_texture(source.image, source.posmap, topology, 512),
        "fill_hidden_mirror_256": lambda: fill_hidden(sampled.texture, sampled.visible,
                                                      topology),
        "fill_hidden_inpaint_256": lambda: fill_hidden(sampled.texture, sampled.visible,
                                                       topology, method="inpaint"),
        "swap_face_512": lambda: swap_face(source.image, source.posmap, target.image,
                                           target.posmap, topology),
        "swap_face_512_given_texture": lambda: swap_face(None, None, target.image,
                                                         target.posmap, topology,
                                                         source_texture=texture),
        "edit_region_eyes_512": lambda: edit_region(target.image, target.posmap, topology,
                                                    "eyes", texture),
        "draw_overlay_512": lambda: draw_overlay(target.image, decoded.landmarks, visible,
                                                 decoded.vertices, pose),
        "depth_colormap_512": lambda: depth_colormap(depth, np.isfinite(depth)),
        "viewer_html_textured": lambda: viewer_html(mesh),
    }
    result = {
        "command": COMMAND,
        "statistic": f"median (and quartiles) of {args.runs} runs after 3 warm-up runs; "
                     "wall clock, and CPU time of the whole process (all threads)",
        "threads": args.threads,
        "machine": machine(),
        "load_average_1min_at_start": load_average(),
        "python": sys.version.split()[0],
        "opencv": cv2.__version__,
        "scene": {"image": [512, 512], "topology": 256,
                  "vertices": topology.vertex_count, "triangles": int(len(topology.triangles)),
                  "target_face_pixels": int(np.isfinite(depth).sum()),
                  "viewer_html_bytes": len(viewer_html(mesh))},
        "cases": {},
    }
    for name, fn in cases.items():
        result["cases"][name] = median_ms(fn, args.runs, warmup=3, cpu="process", digits=2,
                                          percentiles={"q25_ms": 25, "q75_ms": 75})
    result["load_average_1min_at_end"] = load_average()
    write_result("texture_speed", result)


if __name__ == "__main__":
    main()
