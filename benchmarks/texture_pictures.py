"""Draw the example pictures of docs/texture.md from synthetic ICT faces.

Writes docs/texture_overlay.png (landmarks with hidden ones hollow, dense points, pose box
and axes), docs/texture_depth.png (Turbo depth colour map), docs/texture_uv_sheet.png (UV
texture, visibility, filled texture, regions), docs/texture_swap.png (face swap onto both
faces of a photo) and docs/texture_edit.png (eye and mouth edits). With --viewer and a
Chromium on the PATH it also renders the offline HTML viewer to docs/texture_viewer.png.

    PYTHONPATH=src python benchmarks/texture_pictures.py --ict ../shared/data/ict-facekit/FaceXModel
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
import subprocess
import tempfile
from pathlib import Path

import cv2
import numpy as np
from PIL import Image
from texture_scenes import make_scene, skin_texture

from facerecon.apps.depth import depth_image
from facerecon.apps.draw import depth_colormap, draw_overlay, uv_texture_sheet
from facerecon.apps.edit import edit_region
from facerecon.apps.pose import estimate_pose
from facerecon.apps.swap import swap_faces
from facerecon.apps.texture import face_uvs, fill_hidden, uv_texture
from facerecon.apps.viewer import viewer_html
from facerecon.atomic import write_bytes
from facerecon.mesh import Mesh
from facerecon.morphable.ict import load_ict
from facerecon.posmap import decode
from facerecon.render import rasterize, vertex_visibility
from facerecon.topology import load_topology

DOCS = Path(__file__).resolve().parents[1] / "docs"
PANEL = 288


def label(panel: np.ndarray, text: str) -> np.ndarray:
    panel = panel.copy()
    cv2.putText(panel, text, (6, panel.shape[0] - 8), cv2.FONT_HERSHEY_SIMPLEX, 0.5,
                (255, 255, 255), 2, cv2.LINE_AA)
    cv2.putText(panel, text, (6, panel.shape[0] - 8), cv2.FONT_HERSHEY_SIMPLEX, 0.5,
                (20, 20, 20), 1, cv2.LINE_AA)
    return panel


def crop(image: np.ndarray, centre, side: int) -> np.ndarray:
    """A side x side crop around ``centre`` (x, y), resized to PANEL."""
    x0 = int(np.clip(centre[0] - side / 2, 0, image.shape[1] - side))
    y0 = int(np.clip(centre[1] - side / 2, 0, image.shape[0] - side))
    return cv2.resize(image[y0:y0 + side, x0:x0 + side], (PANEL, PANEL),
                      interpolation=cv2.INTER_AREA)


def save(image: np.ndarray, name: str, written: dict) -> None:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG", optimize=True)
    write_bytes(DOCS / name, buffer.getvalue())
    written[name] = buffer.tell()


def overlay_pictures(model, topology, written: dict) -> None:
    scene = make_scene(model, topology, seed=4, yaw=55, pitch=-10, roll=5, height=320,
                       tone=(225, 180, 150))
    decoded = decode(scene.posmap, topology)
    raster = rasterize(decoded.vertices, topology.triangles, *scene.image.shape[:2])
    visible = vertex_visibility(decoded.landmarks, raster, tolerance=3.0)
    pose = estimate_pose(decoded.vertices, decode(topology.canonical_posmap, topology).vertices)
    centre = decoded.landmarks[:, :2].mean(axis=0)
    box = draw_overlay(scene.image, decoded.landmarks, visible, decoded.vertices, pose)
    axes = draw_overlay(scene.image, decoded.landmarks, visible, None, pose, pose_style="axes")
    panels = [label(crop(scene.image, centre, 400), "synthetic photo, yaw 55"),
              label(crop(box, centre, 400), "landmarks, dense points, pose box"),
              label(crop(axes, centre, 400), "pose axes; hidden = hollow orange")]
    save(np.hstack(panels), "texture_overlay.png", written)
    depth = depth_image(decoded.vertices, topology.triangles, *scene.image.shape[:2],
                        background=np.nan)
    save(np.hstack([label(crop(scene.image, centre, 400), "photo"),
                    label(crop(depth_colormap(depth, np.isfinite(depth)), centre, 400),
                          "depth (Turbo: red near, blue far)")]),
         "texture_depth.png", written)
    sampled = uv_texture(scene.image, scene.posmap, topology)
    filled = fill_hidden(sampled.texture, sampled.visible, topology)
    save(uv_texture_sheet(sampled.texture, sampled.visible, topology, filled),
         "texture_uv_sheet.png", written)
    written["overlay_pose"] = {"yaw": round(pose.yaw, 2), "pitch": round(pose.pitch, 2),
                               "roll": round(pose.roll, 2),
                               "hidden_landmarks": int((~visible).sum())}


def swap_and_edit_pictures(model, topology, written: dict) -> None:
    source = make_scene(model, topology, seed=7, yaw=-20, pitch=-5, roll=5, height=300,
                        tone=(150, 100, 75), paint=True)
    left = make_scene(model, topology, seed=4, yaw=25, pitch=5, height=230,
                      centre=(170, 256), tone=(225, 180, 150), size=(512, 680))
    both = make_scene(model, topology, seed=9, yaw=-35, pitch=0, roll=-4, height=210,
                      centre=(520, 270), tone=(200, 150, 120), photo=left.image)
    swapped = swap_faces(source.image, source.posmap, both.image,
                         [left.posmap, both.posmap], topology)
    plain = swap_faces(source.image, source.posmap, both.image, [left.posmap, both.posmap],
                       topology, color_match="none")
    row = [cv2.resize(p, None, fx=PANEL / 512, fy=PANEL / 512, interpolation=cv2.INTER_AREA)
           for p in (both.image, swapped.image, plain.image)]
    source_panel = cv2.resize(source.image, (PANEL, PANEL), interpolation=cv2.INTER_AREA)
    extra = row[0].shape[1] - PANEL
    source_panel = np.pad(source_panel, ((0, 0), (extra // 2, extra - extra // 2), (0, 0)),
                          mode="edge")
    save(np.vstack([np.hstack([label(source_panel, "source"),
                               label(row[0], "target: two faces")]),
                    np.hstack([label(row[1], "swap_faces: Lab match + Poisson"),
                               label(row[2], "no colour match, Poisson")])]),
         "texture_swap.png", written)

    eyes = edit_region(left.image, left.posmap, topology, "eyes",
                       (source.image, source.posmap))
    lipstick = skin_texture(topology, (225, 180, 150), seed=1, lips=(120, 40, 150))
    mouth = edit_region(left.image, left.posmap, topology, "mouth", lipstick)
    centre = decode(left.posmap, topology).landmarks[:, :2].mean(axis=0)
    save(np.hstack([label(crop(left.image, centre, 300), "target"),
                    label(crop(eyes.image, centre, 300), "eyes from the source"),
                    label(crop(mouth.image, centre, 300), "mouth from a texture image")]),
         "texture_edit.png", written)
    written["swap_mask_pixels"] = int(swapped.mask.sum())
    written["eye_edit_mask_pixels"] = int(eyes.mask.sum())


def viewer_picture(model, topology, written: dict) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        written["viewer"] = "skipped: no chromium on the PATH"
        return
    scene = make_scene(model, topology, seed=4, yaw=-30, tone=(225, 180, 150))
    sampled = uv_texture(scene.image, scene.posmap, topology)
    texture = fill_hidden(sampled.texture, sampled.visible, topology)
    mesh = Mesh(decode(scene.posmap, topology).vertices, topology.triangles,
                uvs=face_uvs(topology), texture=texture)
    with tempfile.TemporaryDirectory() as folder:
        page, shot = Path(folder) / "viewer.html", Path(folder) / "viewer.png"
        page.write_text(viewer_html(mesh, title="facerecon viewer"), encoding="utf-8")
        subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu",
                        "--use-gl=swiftshader", "--enable-unsafe-swiftshader",
                        "--disable-background-networking", "--disable-component-update",
                        "--no-first-run", "--disable-sync", f"--user-data-dir={folder}/profile",
                        f"--screenshot={shot}", "--window-size=640,480", page.as_uri()],
                       check=True, capture_output=True, timeout=120)
        save(np.asarray(Image.open(shot).convert("RGB")), "texture_viewer.png", written)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ict", type=Path, required=True, help="ICT-FaceKit FaceXModel folder")
    parser.add_argument("--viewer", action="store_true", help="also screenshot the viewer")
    args = parser.parse_args()
    model, topology = load_ict(args.ict), load_topology(256)
    written: dict = {}
    overlay_pictures(model, topology, written)
    swap_and_edit_pictures(model, topology, written)
    if args.viewer:
        viewer_picture(model, topology, written)
    print(json.dumps(written, indent=2))


if __name__ == "__main__":
    main()
