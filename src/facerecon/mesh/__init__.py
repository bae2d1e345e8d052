"""Meshes and their files: the :class:`Mesh` container, OBJ / textured OBJ / PLY / GLB I/O.

Frames, winding and the uv convention are documented in :mod:`facerecon.mesh.mesh` and
docs/mesh.md. trimesh is imported only when a GLB is written or read.
"""

from facerecon.mesh.glb import read_glb, write_glb
from facerecon.mesh.mesh import FRAMES, Mesh, pixel_to_uv, to_file_frame, uv_to_pixel
from facerecon.mesh.obj import textured_obj_paths, write_obj, write_textured_obj
from facerecon.mesh.obj_reader import read_obj
from facerecon.mesh.ply import read_ply, write_ply

__all__ = [
    "FRAMES",
    "Mesh",
    "pixel_to_uv",
    "read_glb",
    "read_obj",
    "read_ply",
    "textured_obj_paths",
    "to_file_frame",
    "uv_to_pixel",
    "write_glb",
    "write_obj",
    "write_ply",
    "write_textured_obj",
]
