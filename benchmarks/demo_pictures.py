"""The README's pictures: the shipped model on scikit-image's astronaut photo.

Writes docs/demo_overlay.jpg (landmarks, hidden ones hollow; dense points; pose box),
docs/demo_mesh.jpg (the photo, the reconstructed mesh shaded at the photo's pose, and the
same mesh turned by -60 and +60 degrees of yaw about its own centre, and the depth map) and
docs/demo_swap.jpg (a synthetic face of ours swapped into the photo, and its eyes edited in:
both faces reconstructed by the network; the only real photo we may commit is this one).

    PYTHONPATH=src python benchmarks/demo_pictures.py [--weights FILE]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

DOCS = Path(__file__).resolve().parents[1] / "docs"
PANEL = 320


def _panel(image: np.ndarray, label: str) -> np.ndarray:
    panel = cv2.resize(image, (PANEL, PANEL), interpolation=cv2.INTER_AREA)
    cv2.putText(panel, label, (6, PANEL - 8), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 0), 1,
                cv2.LINE_AA)
    return panel


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights", default=None)
    args = parser.parse_args()

    from skimage.data import astronaut

    from facerecon.api import FaceReconstructor
    from facerecon.apps.draw import depth_colormap, draw_overlay
    from facerecon.apps.pose import rotation_from_euler
    from facerecon.imageio import write_image
    from facerecon.render import render_shaded

    image = astronaut()
    rec = FaceReconstructor(weights=args.weights)
    face = rec(image)[0]
    overlay = draw_overlay(image, face.landmarks, face.landmark_visibility, face.vertices,
                           face.pose)

    height, width = image.shape[:2]
    shaded, _ = render_shaded(face.vertices, face.triangles, height, width)
    x0, y0 = np.floor(face.vertices[:, :2].min(axis=0)).astype(int) - 20
    x1, y1 = np.ceil(face.vertices[:, :2].max(axis=0)).astype(int) + 20
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, width), min(y1, height)
    side = max(x1 - x0, y1 - y0)
    panels = [_panel(image[y0:y0 + side, x0:x0 + side], "photo"),
              _panel(shaded[y0:y0 + side, x0:x0 + side], "mesh at the photo's pose")]
    centre = face.vertices.mean(axis=0)
    for yaw in (-60, 60):
        turned = (face.vertices - centre) @ rotation_from_euler(yaw, 0, 0).T + centre
        view, _ = render_shaded(turned.astype(np.float32), face.triangles, height, width)
        panels.append(_panel(view[y0:y0 + side, x0:x0 + side], f"turned yaw {yaw:+d}"))
    depth = face.depth(background=np.nan)
    covered = np.isfinite(depth)
    colour = depth_colormap(np.where(covered, depth, 0), covered)
    panels.append(_panel(colour[y0:y0 + side, x0:x0 + side], "depth (red near)"))
    # Small JPEGs: the overlay around the face (with room for the pose box), the sheets.
    margin = side // 3
    top, left = max(y0 - margin, 0), max(x0 - margin, 0)
    write_image(DOCS / "demo_overlay.jpg",
                overlay[top:y0 + side + margin, left:x0 + side + margin], jpeg_quality=88)
    write_image(DOCS / "demo_mesh.jpg", np.concatenate(panels, axis=1), jpeg_quality=88)
    write_image(DOCS / "demo_swap.jpg", swap_panels(rec, image, face, (x0, y0, side)),
                jpeg_quality=88)
    print(f"wrote demo_overlay.jpg, demo_mesh.jpg and demo_swap.jpg in {DOCS}")


def swap_panels(rec, image, face, window) -> np.ndarray:
    """Source (synthetic), target (photo), face swap, eye edit: cropped to the target face."""
    from facerecon.apps.edit import edit_regions
    from facerecon.apps.swap import swap_faces
    from facerecon.data.synthetic import render_synthetic_face

    x0, y0, side = window
    scene = render_synthetic_face(rec.topology, yaw=-15, pitch=5, image_size=(360, 360))
    source = rec(scene.image)[0]
    swapped = swap_faces(scene.image, source.posmap, image, [face.posmap], rec.topology).image
    edited = edit_regions(image, [face.posmap], rec.topology, "eyes",
                          (scene.image, source.posmap)).image
    crop = (slice(y0, y0 + side), slice(x0, x0 + side))
    return np.concatenate([
        _panel(scene.image, "source (synthetic)"), _panel(image[crop], "target photo"),
        _panel(swapped[crop], "face swap"), _panel(edited[crop], "eyes from the source"),
    ], axis=1)


if __name__ == "__main__":
    main()
