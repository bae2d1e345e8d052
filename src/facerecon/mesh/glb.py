"""Binary glTF (GLB) writer and reader, through trimesh (imported lazily: ~0.5 s here).

:func:`write_glb` writes one mesh primitive with either

- a texture: ``TEXCOORD_0`` plus a PBR material whose ``baseColorTexture`` is the texture
  (PNG inside the GLB). trimesh flips v to glTF's top-left origin on export and back on load,
  so ``Mesh.uvs`` keep the OBJ convention (v up) on both sides; or
- vertex colours: ``COLOR_0`` as 8-bit RGBA (alpha 255), so colours come back within 0.5/255.

If a mesh has both, the texture is written and the colours are not (trimesh keeps one
visual per mesh). Positions are in the right-handed y-up frame by default (``frame="y_up"``,
y negated), which is glTF's own convention (+y up, front faces counter-clockwise, the viewer
on +z); ``frame="image"`` keeps raw image-frame coordinates.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np

from facerecon.atomic import write_bytes
from facerecon.errors import DataNotFoundError, InvalidInputError, MissingDependencyError
from facerecon.mesh.mesh import Mesh, to_file_frame


def _trimesh():
    try:
        import trimesh
    except ImportError as error:  # a hard dependency, but fail with a clear message
        raise MissingDependencyError("GLB export needs trimesh: pip install trimesh") from error
    return trimesh


def write_glb(mesh: Mesh, path: str | os.PathLike, frame: str = "y_up") -> Path:
    """Atomically write ``mesh`` as a GLB file. Returns the written path."""
    trimesh = _trimesh()
    from PIL import Image

    if mesh.texture is not None:
        material = trimesh.visual.material.PBRMaterial(
            baseColorTexture=Image.fromarray(np.ascontiguousarray(mesh.texture)),
            baseColorFactor=[255, 255, 255, 255],
            metallicFactor=0.0,
            roughnessFactor=1.0,
        )
        visual = trimesh.visual.TextureVisuals(uv=np.array(mesh.uvs), material=material)
    elif mesh.colors is not None:
        rgba = np.full((mesh.num_vertices, 4), 255, dtype=np.uint8)
        rgba[:, :3] = np.rint(mesh.colors * 255.0).astype(np.uint8)
        visual = trimesh.visual.ColorVisuals(vertex_colors=rgba)
    else:
        visual = None
    # process=False: keep vertex order and count exactly (no merging, no reordering).
    shape = trimesh.Trimesh(
        vertices=to_file_frame(mesh.vertices, frame),
        faces=np.array(mesh.triangles),
        visual=visual,
        process=False,
    )
    write_bytes(path, shape.export(file_type="glb"))
    return Path(path)


def read_glb(path: str | os.PathLike, frame: str = "y_up") -> Mesh:
    """Read a single-mesh GLB (as :func:`write_glb` writes) into a Mesh.

    Scene transforms are applied. Vertex colours (alpha dropped) or a base-colour texture
    with its uvs are read back. ``frame`` must be the frame the file was written in.
    """
    glb_path = Path(path)
    if not glb_path.is_file():
        raise DataNotFoundError(f"GLB file not found: {glb_path}")
    trimesh = _trimesh()
    try:
        scene = trimesh.load(
            io.BytesIO(glb_path.read_bytes()), file_type="glb", force="scene", process=False
        )
    except Exception as error:  # trimesh raises many types on malformed input
        raise InvalidInputError(f"{glb_path}: cannot read GLB: {error}") from error
    shapes = list(scene.dump())
    if len(shapes) != 1:
        raise InvalidInputError(f"{glb_path}: expected one mesh, found {len(shapes)}")
    shape = shapes[0]
    colors = uvs = texture = None
    visual = shape.visual
    if visual.kind == "texture" and visual.uv is not None:
        uvs = np.asarray(visual.uv)
        image = getattr(visual.material, "baseColorTexture", None)
        if image is not None:
            texture = np.asarray(image.convert("RGB"), dtype=np.uint8)
    elif visual.kind == "vertex":
        colors = np.asarray(visual.vertex_colors)[:, :3] / 255.0
    return Mesh(
        to_file_frame(np.asarray(shape.vertices), frame),
        np.asarray(shape.faces),
        colors=colors,
        uvs=uvs,
        texture=texture,
    )
