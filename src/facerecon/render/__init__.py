"""Numba rasteriser: z-buffer, barycentric interpolation, depth, visibility, render back."""

from facerecon.render.rasterize import Raster, rasterize, vertex_visibility
from facerecon.render.shading import render_colors, render_shaded, render_textured, vertex_normals

__all__ = [
    "Raster",
    "rasterize",
    "render_colors",
    "render_shaded",
    "render_textured",
    "vertex_normals",
    "vertex_visibility",
]
