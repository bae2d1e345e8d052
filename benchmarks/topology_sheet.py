"""Draw docs/topology_sheet.png: a look at the UV topology and a synthetic face built with it.

Panels (256 x 256 each): the UV layout coloured by region with the 68 landmark pixels; the
loss-weight mask; the grid mesh of a synthetic ICT face (random identity, mild expression)
encoded into the position map and decoded again, Lambert-shaded from the front and at yaw
+60 / -60 degrees; and its depth image (nearer is brighter). Back faces are drawn with the
ambient light only, so an inside-out mesh would show up dark.

    PYTHONPATH=src python benchmarks/topology_sheet.py \
        --ict ../shared/data/ict-facekit/FaceXModel
"""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from facerecon.apps.depth import depth_image, depth_to_uint8
from facerecon.atomic import write_bytes
from facerecon.morphable.ict import load_ict
from facerecon.posmap import decode, encode
from facerecon.render.shading import render_shaded
from facerecon.topology import load_topology
from facerecon.topology.build import to_image_frame

REPO = Path(__file__).resolve().parents[1]
SIZE = 256
REGION_COLOURS = {  # RGB, drawn in this order (later wins)
    "outer": (40, 70, 140),
    "face": (150, 60, 50),
    "nose": (200, 60, 200),
    "mouth": (230, 200, 40),
    "eye_right": (40, 200, 60),
    "eye_left": (40, 200, 220),
}


def yaw_matrix(degrees: float) -> np.ndarray:
    """Ry(yaw) of facerecon.types (R = Rz(roll) @ Ry(yaw) @ Rx(pitch)), image frame."""
    a = np.radians(degrees)
    return np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])


def layout_panel(topology) -> np.ndarray:
    panel = np.zeros((SIZE, SIZE, 3), np.uint8)
    panel[topology.uv_mask] = (90, 90, 90)
    for name, colour in REGION_COLOURS.items():
        panel[topology.region_masks[name]] = colour
    for col, row in topology.landmark_uv:
        cv2.circle(panel, (int(round(col)), int(round(row))), 1, (255, 255, 255), -1)
    return panel


def weight_panel(topology) -> np.ndarray:
    grey = np.sqrt(topology.weight_mask / topology.weight_mask.max())  # 16 vs 1-4: sqrt
    return np.repeat((grey * 255).astype(np.uint8)[..., None], 3, axis=2)


def synthetic_face(model, topology, seed: int) -> np.ndarray:
    """A random identity with a mild expression, placed like the canonical face (crop 256)."""
    rng = np.random.default_rng(seed)
    face = to_image_frame(model.shape(rng.normal(size=100), rng.uniform(0, 0.4, size=53)))
    neutral = to_image_frame(model.neutral)
    canonical = topology.canonical_vertices.astype(np.float64)
    scale = np.ptp(canonical[:, 0]) / np.ptp(neutral[:, 0])
    return (scale * (face - neutral.mean(axis=0)) + canonical.mean(axis=0)).astype(np.float32)


def posed(vertices: np.ndarray, yaw: float) -> np.ndarray:
    centre = np.array([(SIZE - 1) / 2, (SIZE - 1) / 2, 0.0])
    return ((vertices - centre) @ yaw_matrix(yaw).T + centre).astype(np.float32)


def label(panel: np.ndarray, text: str) -> np.ndarray:
    panel = panel.copy()
    cv2.putText(panel, text, (4, SIZE - 6), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 0), 1,
                cv2.LINE_AA)
    return panel


def build_sheet(ict: Path, seed: int) -> tuple[np.ndarray, dict]:
    topology = load_topology(SIZE)
    model = load_ict(ict)
    face = synthetic_face(model, topology, seed)
    grid = decode(encode(face, topology), topology).vertices  # the grid mesh's vertices
    panels = [label(layout_panel(topology), "UV regions + landmarks"),
              label(weight_panel(topology), "weight mask (sqrt)")]
    for yaw in (0, 60, -60):
        shaded, _ = render_shaded(posed(grid, yaw), topology.triangles, SIZE, SIZE,
                                  light_direction=(0.3, -0.4, 1.0), color=(0.9, 0.8, 0.7))
        panels.append(label(shaded, f"grid mesh, yaw {yaw:+d}"))
    depth = depth_image(grid, topology.triangles, SIZE, SIZE, background=np.nan)
    grey = depth_to_uint8(depth, np.isfinite(depth))
    panels.append(label(np.repeat(grey[..., None], 3, axis=2), "depth (near = bright)"))
    sheet = np.vstack([np.hstack(panels[:3]), np.hstack(panels[3:])])
    facts = {
        "seed": seed,
        "valid_pixels": topology.vertex_count,
        "grid_triangles": int(len(topology.triangles)),
    }
    return sheet, facts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ict", type=Path, required=True, help="ICT-FaceKit FaceXModel folder")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--output", type=Path, default=REPO / "docs" / "topology_sheet.png")
    args = parser.parse_args()
    sheet, facts = build_sheet(args.ict, args.seed)
    buffer = io.BytesIO()
    Image.fromarray(sheet).save(buffer, format="PNG", optimize=True)
    write_bytes(args.output, buffer.getvalue())
    print(json.dumps({"output": str(args.output), "bytes": buffer.tell(), **facts}))


if __name__ == "__main__":
    main()
