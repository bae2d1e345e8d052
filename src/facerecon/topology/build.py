"""Compute the UV topology arrays from ICT-FaceKit (``facerecon assets build``).

Steps: select and lay out the region's UV triangles (:mod:`.layout`), rasterise them in UV
pixel space once (every valid pixel gets its source ICT triangle and barycentric weights),
fit the landmark lookup (:mod:`.landmark_lookup`), derive the region and weight masks
(:mod:`.regions`), and place the neutral face frontally in an R x R crop
(:func:`canonical_vertices`). The result is deterministic for given ICT files and resolution.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

import numpy as np

from facerecon.atomic import atomic_path
from facerecon.crop import CropTransform, crop_from_landmarks
from facerecon.errors import InvalidInputError
from facerecon.morphable.ict import IctModel
from facerecon.render.rasterize import rasterize
from facerecon.topology.landmark_lookup import bilinear_lookup, fit_lookup
from facerecon.topology.layout import NECK_MARGIN, build_layout, padding
from facerecon.topology.regions import region_masks, weight_mask


def to_image_frame(ict_vertices: np.ndarray) -> np.ndarray:
    """ICT frame (+Y up, +Z to the viewer) -> image frame (x right, y down, z nearer larger).

    A frontal camera looks along -Z with +X to its right, so x stays, y flips and z stays.
    Flipping one axis turns the right-handed ICT frame into the left-handed image frame; the
    face is not mirrored (the subject's right, ICT -X, stays at smaller image x).
    """
    return np.asarray(ict_vertices, dtype=np.float64) * np.array([1.0, -1.0, 1.0])


def _canonical_crop(model: IctModel, resolution: int) -> CropTransform:
    """The pipeline's 68-point crop (facerecon.crop.crop_from_landmarks) of the neutral face."""
    landmarks = to_image_frame(model.neutral)[model.landmark_indices]
    return crop_from_landmarks(landmarks[:, :2], resolution)


def canonical_scale(model: IctModel, resolution: int) -> float:
    """Crop pixels per ICT unit of the canonical face."""
    return _canonical_crop(model, resolution).scale


def canonical_vertices(model: IctModel, resolution: int) -> np.ndarray:
    """(V, 3) float32 neutral face, frontal, in an R x R crop (image frame).

    Placement: exactly where the pipeline's crop recipe (``crop_from_landmarks`` on its 68
    landmarks) puts it, so a frontal face's position map looks like the canonical one; z is
    scaled alike and shifted so that the landmarks' mean z is 0.
    """
    points = to_image_frame(model.neutral)
    crop = _canonical_crop(model, resolution)
    placed = crop.to_crop(points)
    placed[:, 2] -= placed[model.landmark_indices, 2].mean()
    return placed.astype(np.float32)


def _rasterise_layout(layout, resolution: int) -> tuple[np.ndarray, np.ndarray]:
    corners = layout.corner_pixels.reshape(-1, 2)
    # UV space is flat: constant depth, and the island does not overlap itself.
    points = np.column_stack([corners, np.zeros(len(corners))])
    raster = rasterize(points, np.arange(len(corners)).reshape(-1, 3), resolution, resolution)
    drawn = raster.triangle_index
    rows = np.arange(resolution)[:, None]
    on_map = (drawn >= 0) & (rows <= layout.cut_rows[None, :])
    pixel_triangle = np.where(on_map, layout.kept_triangles[np.maximum(drawn, 0)], -1)
    return pixel_triangle.astype(np.int32), raster.barycentric


def build_command(resolution: int) -> str:
    """The command recorded in the file (the ICT path and --output do not change it)."""
    return f"facerecon assets build --ict <ICT-FaceKit>/FaceXModel --resolution {resolution}"


def model_digest(model: IctModel) -> str:
    """SHA-256 of the ICT arrays the topology is computed from (not of file dates)."""
    digest = hashlib.sha256()
    for array in (model.neutral, model.triangles, model.triangle_uvs, model.uvs,
                  model.landmark_indices):
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def build_topology(model: IctModel, resolution: int = 256, command: str = "") -> dict:
    """Return the arrays of ``uv_topology_<R>.npz`` (read back by ``topology_from_arrays``).

    Args:
        model: the ICT face region (:func:`facerecon.morphable.ict.load_ict`).
        resolution: side R of the map.
        command: the command line that produced the file, kept in its metadata.
    """
    layout = build_layout(model, resolution)
    pixel_triangle, barycentric = _rasterise_layout(layout, resolution)
    uv_mask = pixel_triangle >= 0
    landmark_uv = layout.landmark_uv
    if np.any(landmark_uv < 0) or np.any(landmark_uv > resolution - 1):
        raise InvalidInputError("a landmark falls outside the UV map")
    lookup_index, prior = bilinear_lookup(uv_mask, landmark_uv)
    lookup_pixels = np.unravel_index(lookup_index, uv_mask.shape)
    lookup_triangle = pixel_triangle[lookup_pixels]
    lookup_weight = fit_lookup(
        model, lookup_index, prior,
        model.triangles[np.maximum(lookup_triangle, 0)],
        np.where(lookup_triangle[..., None] >= 0, barycentric[lookup_pixels], 0.0),
        canonical_scale(model, resolution))
    masks = region_masks(uv_mask, landmark_uv)
    # The landmark weight goes on the 2x2 cell around each landmark (PRN's landmark spots);
    # the other lookup pixels carry small corrections.
    weights = weight_mask(uv_mask, masks, lookup_index, prior)
    valid = np.flatnonzero(uv_mask)
    metadata = {
        "command": command,
        "source": "ICT-FaceKit FaceXModel, face region (vertices 0-9408, polygons 0-9229)",
        "ict_arrays_sha256": model_digest(model),
        "resolution": resolution,
        "neck_margin_uv": NECK_MARGIN,
        "padding_px": padding(resolution),
        "uv_box": layout.uv_box,
        "ict_triangles_on_map": int(np.unique(pixel_triangle[uv_mask]).size),
        "valid_pixels": int(valid.size),
        "canonical_crop": "crop_from_landmarks (facerecon.crop.LANDMARK_CROP_PARAMS[68])",
    }
    arrays = {
        "uv_mask": uv_mask,
        "valid_triangle": pixel_triangle.reshape(-1)[valid].astype(np.int32),
        # The third weight is 1 - the other two; storing two keeps the file smaller.
        "valid_barycentric": barycentric.reshape(-1, 3)[valid, :2].astype(np.float32),
        "region_triangles": model.triangles.astype(np.int32),
        "region_vertex_count": np.int64(model.vertex_count),
        "landmark_uv": landmark_uv.astype(np.float32),
        "landmark_vertices": model.landmark_indices.astype(np.int32),
        "landmark_lookup_index": lookup_index.astype(np.int32),
        "landmark_lookup_weight": lookup_weight.astype(np.float32),
        "weight_mask": weights,
        "canonical_vertices": canonical_vertices(model, resolution),
        "metadata": np.array(json.dumps(metadata, sort_keys=True)),
    }
    arrays.update({f"mask_{name}": mask for name, mask in masks.items()})
    return arrays


def write_topology(path: str | Path, arrays: dict) -> Path:
    """Write the arrays as a compressed ``.npz`` atomically; return the path.

    Unlike ``np.savez_compressed``, the zip entries carry a fixed date, so the same arrays
    always give the same bytes.
    """
    final = Path(path)
    with atomic_path(final) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, value in arrays.items():
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.asanyarray(value), allow_pickle=False)
            entry = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, buffer.getvalue())
    return final
