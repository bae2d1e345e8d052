"""``facerecon demo -o OUTDIR``: the whole pipeline on a bundled example, offline.

With trained weights installed, the example is a real photo (scikit-image's public-domain
astronaut portrait, which the ``demo`` extra installs), reconstructed by the shipped network.
Without weights, or with ``--synthetic``, it is a synthetic photo of the packaged canonical
face at a known pose, reconstructed from its exact position map: every step except the
network (crop, decode, mesh, pose, depth, exports, overlay) runs for real and is checked
against the truth.
"""

from __future__ import annotations

from argparse import Namespace
from pathlib import Path

import numpy as np

from facerecon.cli import outputs
from facerecon.errors import MissingDependencyError
from facerecon.imageio import write_image

DEMO_POSE = {"yaw": 35.0, "pitch": -10.0, "roll": 8.0}
DEMO_SAVE = ["json", "mesh", "textured", "glb", "landmarks", "pose", "depth", "overlay"]


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "demo", help="reconstruct a bundled example (offline)", description=__doc__
    )
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="OUTDIR")
    parser.add_argument("--synthetic", action="store_true",
                        help="use the synthetic example even when trained weights exist")
    parser.set_defaults(func=run)


def run(args) -> int:
    from facerecon.models import DEFAULT_MODEL, shipped_weights

    if args.synthetic or shipped_weights(DEFAULT_MODEL) is None:
        return _run_synthetic(args.output)
    return _run_photo(args.output)


def _save(reconstructor, photo: Path, image, faces, output: Path, box=None) -> None:
    save_args = Namespace(output=output, save=DEMO_SAVE, front=False, texture_size=512, box=box)
    outputs.write_image_outputs(photo, photo.stem, image, faces, save_args, reconstructor)


def _run_photo(output: Path) -> int:
    from facerecon.api import FaceReconstructor

    try:
        from skimage.data import astronaut
    except ImportError as error:
        raise MissingDependencyError(
            "the demo photo comes with scikit-image: pip install 'facerecon[demo]' "
            "(or run `facerecon demo --synthetic`)"
        ) from error
    image = astronaut()
    photo = Path(output) / "astronaut.png"
    write_image(photo, image)
    reconstructor = FaceReconstructor()
    faces = reconstructor(image)
    _save(reconstructor, photo, image, faces, output)
    print(f"{len(faces)} face(s) in scikit-image's astronaut photo (NASA, public domain).")
    for index, face in enumerate(faces):
        print(f"  face {index}: box {np.round(face.box).astype(int).tolist()}  yaw "
              f"{face.pose.yaw:+.1f}  pitch {face.pose.pitch:+.1f}  roll {face.pose.roll:+.1f}")
    print(f"Outputs in {output}: astronaut_overlay.png, astronaut_face0.obj/.glb, "
          "_textured.obj, _depth.png, astronaut.json")
    return 0 if faces else 1


def _run_synthetic(output: Path) -> int:
    from facerecon.api import FaceReconstructor
    from facerecon.data.synthetic import GroundTruthPredictor, render_synthetic_face
    from facerecon.topology import load_topology

    topology = load_topology(256)
    scene = render_synthetic_face(topology, **DEMO_POSE)
    reconstructor = FaceReconstructor(
        model=GroundTruthPredictor(topology, [scene.vertices]), detector=None
    )
    faces = reconstructor(scene.image, boxes=[scene.box])
    photo = Path(output) / "synthetic_photo.png"
    write_image(photo, scene.image)
    _save(reconstructor, photo, scene.image, faces, output, box=scene.box)
    face = faces[0]
    error = np.linalg.norm(face.landmarks - scene.landmarks, axis=1).max()
    print(
        "This demo shows the geometry pipeline on a synthetic photo with its exact position\n"
        "map (the network is the only step left out).\n"
        f"  pose truth     yaw {scene.yaw:+.1f}  pitch {scene.pitch:+.1f}  roll {scene.roll:+.1f}\n"
        f"  pose estimated yaw {face.pose.yaw:+.1f}  pitch {face.pose.pitch:+.1f}"
        f"  roll {face.pose.roll:+.1f}\n"
        f"  largest landmark error {error:.3f} px, {len(face.vertices)} vertices,"
        f" {len(face.triangles)} triangles\n"
        f"Outputs in {output}: synthetic_photo.png, synthetic_photo_overlay.png,"
        " synthetic_photo_face0.obj/.glb, ..._textured.obj, _depth.png, .json"
    )
    return 0
