"""The files ``facerecon reconstruct`` writes for one image, and the JSON summary schema.

Every file is written atomically; names are ``OUTDIR/<stem>...`` with faces numbered per
image from 0 (``<stem>_face0.obj``). Coordinates in JSON are image pixels of the input image
(x right, y down, z same scale, larger nearer the camera).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np

from facerecon import __version__
from facerecon.atomic import atomic_path, write_text
from facerecon.imageio import write_image

SCHEMA = "facerecon.reconstruction/1"

SAVE_CHOICES = (
    "json", "mesh", "textured", "ply", "glb", "landmarks", "pose", "depth", "posmap", "overlay",
)

EPILOG = f"""\
outputs (OUTDIR/<stem>..., faces numbered per image from 0):
  json       <stem>.json, always written; schema "{SCHEMA}":
             {{"schema", "facerecon_version", "image": path, "width", "height",
              "model", "detector", "pipeline": {{"predictor", "crop_supersample",
              "surface_sigma", "second_pass", "refiner" (null or its own
              "predictor", "crop_supersample", ...), and for network heads
              "weights_file", "weights_sha256"}},
              "faces": [{{"index", "box": [x1,y1,x2,y2], "score",
              "landmarks": [[x,y,z] x 68], "landmarks_visible": [bool x 68],
              "pose": {{"yaw", "pitch", "roll" (degrees), "scale", "rotation",
              "translation", "camera_matrix"}}}}]}}
  mesh       <stem>_face<k>.obj          dense mesh with vertex colours
  textured   <stem>_face<k>_textured.obj + .mtl + .png (hidden texels masked)
  ply, glb   <stem>_face<k>.ply / .glb
  landmarks  <stem>_face<k>_landmarks.txt   68 lines "x y z"
  pose       <stem>_face<k>_pose.json
  depth      <stem>_depth.npy (float32 HxW, 0 = no face) and <stem>_depth.png (colour map)
  posmap     <stem>_face<k>_posmap.npy   (R, R, 3) float32 in image pixels
  overlay    <stem>_overlay.png          landmarks (hidden ones hollow), dense points, pose
Meshes are exported y-up (y negated), front faces counter-clockwise; --front exports the
pose-free shape in the canonical frame."""


def unique_stems(paths: list[Path]) -> dict[Path, str]:
    """Output stem of every input; inputs sharing a file stem get their parent folder's name
    prefixed (and a counter if that is not enough), so no output overwrites another."""
    counts = Counter(path.stem for path in paths)
    stems: dict[Path, str] = {}
    taken: set[str] = set()
    for path in paths:
        stem = path.stem if counts[path.stem] == 1 else f"{path.parent.name}_{path.stem}"
        candidate, number = stem, 1
        while candidate in taken:
            number += 1
            candidate = f"{stem}_{number}"
        taken.add(candidate)
        stems[path] = candidate
    return stems


def summary(path: Path, image: np.ndarray, faces, model: str, detector: str,
            pipeline: dict) -> dict:
    """The JSON summary of one image (see :data:`EPILOG` for the schema)."""
    height, width = image.shape[:2]
    return {
        "schema": SCHEMA,
        "facerecon_version": __version__,
        "image": str(path),
        "width": int(width),
        "height": int(height),
        "model": model,
        "detector": detector,
        "pipeline": pipeline,
        "faces": [
            {
                "index": index,
                "box": [round(float(v), 2) for v in face.box],
                "score": round(float(face.score), 4),
                "landmarks": np.round(face.landmarks.astype(np.float64), 3).tolist(),
                "landmarks_visible": [bool(v) for v in face.landmark_visibility],
                "pose": face.pose.as_dict(),
            }
            for index, face in enumerate(faces)
        ],
    }


def write_image_outputs(path: Path, stem: str, image, faces, args, reconstructor) -> None:
    """Write the JSON summary and every ``args.save`` output of one image into args.output."""
    from facerecon import mesh as mesh_io

    out = Path(args.output)
    save = set(args.save)
    for index, face in enumerate(faces):
        base = out / f"{stem}_face{index}"
        if save & {"mesh", "ply", "glb"}:
            mesh = face.mesh(front=args.front)
            if "mesh" in save:
                mesh_io.write_obj(mesh, base.with_suffix(".obj"))
            if "ply" in save:
                mesh_io.write_ply(mesh, base.with_suffix(".ply"))
            if "glb" in save:
                mesh_io.write_glb(mesh, base.with_suffix(".glb"))
        if "textured" in save:
            mesh_io.write_textured_obj(
                _textured_mesh(face, args.texture_size, args.front), f"{base}_textured.obj"
            )
        if "landmarks" in save:
            lines = "".join(f"{x:.3f} {y:.3f} {z:.3f}\n" for x, y, z in face.landmarks)
            write_text(f"{base}_landmarks.txt", lines)
        if "pose" in save:
            write_text(f"{base}_pose.json", json.dumps(face.pose.as_dict(), indent=2) + "\n")
        if "posmap" in save:
            _write_npy(f"{base}_posmap.npy", face.posmap)
    if "depth" in save:
        _write_depth(out / stem, image, faces)
    if "overlay" in save:
        write_image(out / f"{stem}_overlay.png", _overlay(image, faces))
    settings = reconstructor.settings
    detector = "given" if args.box is not None else reconstructor.detector_name
    text = json.dumps(summary(path, image, faces, settings["predictor"], detector, settings),
                      indent=1)
    write_text(out / f"{stem}.json", text + "\n")


def _textured_mesh(face, texture_size: int, front: bool):
    """The face mesh with its UV texture; texels the camera does not see are black."""
    from facerecon.apps.texture import face_uvs, fill_hidden, uv_texture
    from facerecon.mesh import Mesh

    sampled = uv_texture(face.image, face.posmap, face.topology, texture_size)
    texture = fill_hidden(sampled.texture, sampled.visible, face.topology, method="zero")
    vertices = face.mesh(front=True).vertices if front else face.vertices
    return Mesh(vertices, face.triangles, uvs=face_uvs(face.topology), texture=texture)


def _overlay(image, faces) -> np.ndarray:
    """Every face drawn on the photo: landmarks (hidden ones hollow), dense points, pose box."""
    from facerecon.apps.draw import draw_overlay

    for face in faces:
        image = draw_overlay(image, face.landmarks, face.landmark_visibility, face.vertices,
                             face.pose)
    return image


def _write_npy(path, array: np.ndarray) -> None:
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        np.save(handle, np.ascontiguousarray(array))


def _write_depth(base: Path, image, faces) -> None:
    """One depth image for all faces of the image: the nearest surface wins."""
    from facerecon.apps.draw import depth_colormap

    height, width = image.shape[:2]
    depth = np.full((height, width), np.nan, np.float32)
    for face in faces:
        depth = np.fmax(depth, face.depth(background=np.nan))
    covered = np.isfinite(depth)
    depth[~covered] = 0.0
    _write_npy(f"{base}_depth.npy", depth)
    write_image(f"{base}_depth.png", depth_colormap(depth, covered))
