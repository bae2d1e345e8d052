"""``facerecon demo -o OUTDIR``: the whole pipeline on a bundled example, offline.

With trained weights installed, the example is a real photo reconstructed by the network.
Without them, it is a synthetic photo of the packaged canonical face at a known pose,
reconstructed from its exact position map: every step except the network (crop, decode,
mesh, pose, depth, exports, overlay) runs for real and is checked against the truth.
"""

from __future__ import annotations

import sys
from argparse import Namespace
from pathlib import Path

import numpy as np

from facerecon.cli import outputs
from facerecon.imageio import write_image

DEMO_POSE = {"yaw": 35.0, "pitch": -10.0, "roll": 8.0}
DEMO_SAVE = ["json", "mesh", "textured", "glb", "landmarks", "pose", "depth", "overlay"]


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "demo", help="reconstruct a bundled example (offline)", description=__doc__
    )
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="OUTDIR")
    parser.set_defaults(func=run)


def run(args) -> int:
    from facerecon.api import FaceReconstructor
    from facerecon.data.synthetic import GroundTruthPredictor, render_synthetic_face
    from facerecon.topology import load_topology

    topology = load_topology(256)
    scene = render_synthetic_face(topology, **DEMO_POSE)
    predictor = GroundTruthPredictor(topology, [scene.vertices])
    reconstructor = FaceReconstructor(model=predictor, detector=None)
    faces = reconstructor(scene.image, boxes=[scene.box])
    photo = Path(args.output) / "synthetic_photo.png"
    write_image(photo, scene.image)
    save_args = Namespace(
        output=args.output, save=DEMO_SAVE, front=False, texture_size=512, box=scene.box
    )
    outputs.write_image_outputs(photo, "synthetic_photo", scene.image, faces, save_args,
                                reconstructor)
    face = faces[0]
    error = np.linalg.norm(face.landmarks - scene.landmarks, axis=1).max()
    print(
        "No trained weights are installed, so this demo shows the geometry pipeline on a\n"
        "synthetic photo with its exact position map (the network is the only step left out).\n"
        f"  pose truth     yaw {scene.yaw:+.1f}  pitch {scene.pitch:+.1f}  roll {scene.roll:+.1f}\n"
        f"  pose estimated yaw {face.pose.yaw:+.1f}  pitch {face.pose.pitch:+.1f}"
        f"  roll {face.pose.roll:+.1f}\n"
        f"  largest landmark error {error:.3f} px, {len(face.vertices)} vertices,"
        f" {len(face.triangles)} triangles\n"
        f"Outputs in {args.output}: synthetic_photo.png, synthetic_photo_overlay.png,"
        " synthetic_photo_face0.obj/.glb, ..._textured.obj, _depth.png, .json",
        file=sys.stdout,
    )
    return 0
