"""UV texture of a face: the photo sampled into the UV layout, with per-texel visibility.

Position maps here are in **image space**: UV pixel (r, c) of the (R, R, 3) map holds the x, y
(image pixels, integer = pixel centre) and z (same scale, larger nearer) of one fixed surface
point (:mod:`facerecon.types`, :mod:`facerecon.posmap`). Sampling the photo at those x, y gives
a pose-free texture: texel (r, c) is always the same point of the face.

Texture coordinates follow :mod:`facerecon.mesh`: texel (r, c) of a T x T texture has its
centre at u = (c + 0.5) / T, v = 1 - (r + 0.5) / T, whatever T is, so a texture of any size
fits the topology's mesh (``face_uvs``).

The UV layout is left-right symmetric about its centre column (checked in the tests: the
mask, the region masks and the 68 landmark pairs mirror exactly), which :func:`fill_hidden`
uses to copy the visible half of a face onto its hidden half.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from facerecon.errors import InvalidInputError
from facerecon.posmap import decode
from facerecon.render.rasterize import rasterize, vertex_visibility
from facerecon.topology.uv_topology import UVTopology

__all__ = ["FILL_METHODS", "UVTexture", "face_uvs", "fill_hidden", "posmap_at_size",
           "uv_mask_at", "uv_texture"]

FILL_METHODS = ("mirror", "zero", "inpaint")
_MIRROR_GAIN_RANGE = (0.5, 2.0)


@dataclass(frozen=True)
class UVTexture:
    """A face texture in the UV layout.

    Attributes:
        texture: (T, T, 3) uint8 RGB. Visible texels hold the photo's colour there; hidden
            texels hold whatever the photo shows at their position (the occluder), until
            :func:`fill_hidden` replaces them; 0 outside ``mask``.
        visible: (T, T) bool, texels the camera sees (z-buffer test, cleaned by morphology);
            False outside ``mask`` and for texels off the image.
        mask: (T, T) bool, texels that hold a surface point (``uv_mask`` at size T).
    """

    texture: np.ndarray
    visible: np.ndarray
    mask: np.ndarray


def rgb_image(image, name: str = "image") -> np.ndarray:
    """Check an (H, W, 3) uint8 RGB array (returned as is, never modified)."""
    array = np.asarray(image)
    if array.dtype != np.uint8 or array.ndim != 3 or array.shape[2] != 3 or array.size == 0:
        raise InvalidInputError(f"{name} must be a non-empty (H, W, 3) uint8 RGB array, "
                                f"got {array.dtype} {array.shape}")
    return array


def checked_posmap(posmap, topology: UVTopology, name: str = "posmap") -> np.ndarray:
    """(R, R, 3) float32 copy of an image-space position map, finite on the valid pixels."""
    size = topology.resolution
    values = np.asarray(posmap)
    if values.shape != (size, size, 3) or values.dtype.kind not in "fiu":
        raise InvalidInputError(f"{name} must be a real ({size}, {size}, 3) array for this "
                                f"topology, got {values.dtype} {values.shape}")
    values = values.astype(np.float32)
    if not np.all(np.isfinite(values[topology.uv_mask])):
        raise InvalidInputError(f"{name} holds NaN or infinite values on the face")
    return values


def _texture_size(texture_size, topology: UVTopology) -> int:
    if texture_size is None:
        return topology.resolution
    if isinstance(texture_size, bool) or not isinstance(texture_size, int | np.integer) \
            or not 8 <= texture_size <= 8192:
        raise InvalidInputError(f"texture_size must be an integer in [8, 8192], "
                                f"got {texture_size!r}")
    return int(texture_size)


def _resize(array: np.ndarray, size: int) -> np.ndarray:
    # INTER_AREA averages when shrinking; INTER_LINEAR interpolates when enlarging. Both keep
    # pixel centres aligned (half-pixel convention), like the texture coordinates.
    shrinking = size < array.shape[0]
    return cv2.resize(array, (size, size),
                      interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)


def uv_mask_at(topology: UVTopology, size: int) -> np.ndarray:
    """(size, size) bool: ``uv_mask`` resampled to a texture of side ``size``.

    A texel is kept when at least half of what it resamples is surface (mirror-symmetric,
    since the resampling is).
    """
    if size == topology.resolution:
        return topology.uv_mask
    return _resize(topology.uv_mask.astype(np.float32), size) >= 0.5


def posmap_at_size(posmap: np.ndarray, topology: UVTopology, size: int
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Resample an image-space position map to side ``size``.

    Off-mask pixels hold 0, which a plain resize would average into the rim of the face
    (pulling rim texels towards the image origin). So the map and the mask are resampled
    alike and divided (normalised interpolation): every texel is a weighted mean of surface
    points only.

    Returns:
        (posmap (size, size, 3) float32, 0 off the mask; mask (size, size) bool).
    """
    if size == topology.resolution:
        return np.where(topology.uv_mask[..., None], posmap, 0).astype(np.float32), \
            topology.uv_mask
    weight = topology.uv_mask.astype(np.float32)
    numerator = _resize(posmap * weight[..., None], size)
    denominator = _resize(weight, size)
    mask = uv_mask_at(topology, size)
    resampled = np.zeros((size, size, 3), dtype=np.float32)
    resampled[mask] = numerator[mask] / denominator[mask][:, None]
    return resampled, mask


def face_uvs(topology: UVTopology) -> np.ndarray:
    """(N, 2) float32 texture coordinates of the dense vertices (valid pixels, row-major).

    Pixel (r, c) gets u = (c + 0.5) / R, v = 1 - (r + 0.5) / R: the centre of texel (r, c)
    of an R x R texture, and the same surface point in a texture of any other size.
    """
    size = topology.resolution
    rows, cols = np.divmod(topology.valid_indices, size)
    return np.stack([(cols + 0.5) / size, 1.0 - (rows + 0.5) / size], axis=1).astype(np.float32)


def default_tolerance(vertices: np.ndarray) -> float:
    """Z slack of the visibility test: 1 % of the face's larger image extent, at least 1 px.

    Sampling the z-buffer between pixel centres misses slanted and curved surfaces by up to
    about their slope in z per pixel; a fixed fraction of the face size scales with it, and
    occluders in a face (nose over cheek) lie much further in front than that.
    """
    extent = float(np.ptp(vertices[:, :2], axis=0).max())
    return max(1.0, 0.01 * extent)


def _samples_only_face(points: np.ndarray, face: np.ndarray) -> np.ndarray:
    """(N,) bool: all four pixels a bilinear lookup at (x, y) reads are face pixels.

    At the silhouette a texel's colour would otherwise mix in the background behind the face.
    """
    height, width = face.shape
    col0 = np.floor(points[:, 0]).astype(np.int64)
    row0 = np.floor(points[:, 1]).astype(np.int64)
    inside = np.ones(len(points), dtype=bool)
    for dr in (0, 1):
        for dc in (0, 1):
            rows, cols = row0 + dr, col0 + dc
            valid = (rows >= 0) & (rows < height) & (cols >= 0) & (cols < width)
            inside &= valid
            inside[valid] &= face[rows[valid], cols[valid]]
    return inside


def uv_texture(image, posmap_image, topology: UVTopology, texture_size: int | None = None,
               depth_tolerance: float | None = None, cleanup: int = 1) -> UVTexture:
    """Sample a photo into the UV layout, with the texels the camera sees.

    Args:
        image: (H, W, 3) uint8 RGB photo.
        posmap_image: (R, R, 3) real image-space position map of one face (R = the
            topology's resolution).
        topology: the UV topology.
        texture_size: side T of the texture (default R). The map is resampled to T with
            normalised interpolation (:func:`posmap_at_size`).
        depth_tolerance: z slack in image pixels of the visibility test (default
            :func:`default_tolerance`: 1 % of the face size, at least 1 px).
        cleanup: radius in texels of the morphological closing then opening of the visible
            mask (fills pinholes, drops specks); 0 turns it off.

    Returns:
        :class:`UVTexture`. Texel colours are bilinear samples of the photo at the texel's
        x, y (pixel centres at integers), black off the image. A texel is visible when it
        lies on the image and its z is within ``depth_tolerance`` of the z-buffer of the
        face mesh (the topology's grid mesh of this position map) at its x, y, and the
        four photo pixels its bilinear sample reads are all covered by the face (so no
        silhouette texel takes the background's colour).

    Raises:
        InvalidInputError: wrong image or position map, bad size or tolerance.
    """
    image = rgb_image(image)
    posmap = checked_posmap(posmap_image, topology)
    size = _texture_size(texture_size, topology)
    if isinstance(cleanup, bool) or not isinstance(cleanup, int | np.integer) or cleanup < 0:
        raise InvalidInputError(f"cleanup must be a non-negative integer, got {cleanup!r}")
    vertices = decode(posmap, topology).vertices
    tolerance = default_tolerance(vertices) if depth_tolerance is None else float(depth_tolerance)
    if not (np.isfinite(tolerance) and tolerance >= 0):
        raise InvalidInputError(f"depth_tolerance must be finite and >= 0, got {tolerance}")
    resampled, mask = posmap_at_size(posmap, topology, size)

    height, width = image.shape[:2]
    raster = rasterize(vertices, topology.triangles, height, width)
    visible = np.zeros((size, size), dtype=bool)
    points = resampled[mask]
    visible[mask] = (vertex_visibility(points, raster, tolerance=tolerance)
                     & _samples_only_face(points, raster.mask))
    if cleanup:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * cleanup + 1,) * 2)
        cleaned = cv2.morphologyEx(visible.astype(np.uint8), cv2.MORPH_CLOSE, kernel)
        cleaned = cv2.morphologyEx(cleaned, cv2.MORPH_OPEN, kernel)
        # Closing must not reveal texels off the image (vertex_visibility hides those).
        x, y = resampled[..., 0], resampled[..., 1]
        on_image = (x >= -0.5) & (x < width - 0.5) & (y >= -0.5) & (y < height - 0.5)
        visible = cleaned.astype(bool) & mask & on_image

    texture = cv2.remap(image, resampled[..., 0], resampled[..., 1], cv2.INTER_LINEAR,
                        borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0))
    texture[~mask] = 0
    return UVTexture(texture=texture, visible=visible, mask=mask.copy())


def _inpaint(texture: np.ndarray, known: np.ndarray, radius: int) -> np.ndarray:
    """Fill every texel not ``known`` from the known ones (OpenCV's Telea inpainting)."""
    if known.all() or not known.any():
        return texture.copy()
    unknown = (~known).astype(np.uint8)
    return cv2.inpaint(texture, unknown, radius, cv2.INPAINT_TELEA)


def fill_hidden(texture, visible, topology: UVTopology, method: str = "mirror",
                feather: int = 6, inpaint_radius: int = 3) -> np.ndarray:
    """Replace the hidden texels of a UV texture.

    Args:
        texture: (T, T, 3) uint8 RGB texture in the UV layout (e.g. ``UVTexture.texture``).
        visible: (T, T) bool visible texels.
        topology: the UV topology (its mask is resampled to T).
        method: ``"zero"``: hidden texels become black. ``"inpaint"``: hidden texels are
            inpainted (Telea) from the visible ones. ``"mirror"``: a hidden texel whose mirror
            texel (same row, column T - 1 - c; the layout is left-right symmetric) is visible
            takes the mirror's colour, scaled per channel (gain clamped to [0.5, 2]) so that
            its mean equals the texture's own where both halves are seen within
            3 * ``feather`` texels of the copied area (the halves are lit differently); on
            the visible side next to the copied texels, own and mirrored colours are blended
            with a weight of twice the copy mask blurred by a Gaussian of sigma
            ``feather`` / 2 (capped at 1), so no seam shows;
            the texels hidden on both sides are then inpainted.
        feather: width in texels of the mirror blend band (about; see "mirror").
        inpaint_radius: radius of OpenCV's inpainting.

    Returns:
        (T, T, 3) uint8 new texture; visible texels outside the feather band unchanged, 0
        outside the mask. When nothing is visible, "mirror" and "inpaint" give all black.
    """
    texture = rgb_image(texture, "texture")
    size = texture.shape[0]
    visible = np.asarray(visible)
    if texture.shape != (size, size, 3) or visible.shape != (size, size) \
            or visible.dtype != np.bool_:
        raise InvalidInputError(f"texture must be (T, T, 3) and visible (T, T) bool, got "
                                f"{texture.shape} and {visible.dtype} {visible.shape}")
    if method not in FILL_METHODS:
        raise InvalidInputError(f"method must be one of {FILL_METHODS}, got {method!r}")
    if not (0 <= feather <= size and 1 <= inpaint_radius <= size):
        raise InvalidInputError(f"need 0 <= feather and 1 <= inpaint_radius (texels), got "
                                f"{feather} and {inpaint_radius}")
    mask = uv_mask_at(topology, size)
    visible = visible & mask
    if method == "zero" or not visible.any():
        return np.where(visible[..., None], texture, 0).astype(np.uint8)
    if method == "inpaint":
        filled = _inpaint(np.where(visible[..., None], texture, 0).astype(np.uint8), visible,
                          inpaint_radius)
        return np.where(mask[..., None], filled, 0).astype(np.uint8)

    mirrored = texture[:, ::-1].astype(np.float32)
    mirror_visible = visible[:, ::-1] & mask
    copied = ~visible & mirror_visible & mask
    weight = copied.astype(np.float32)  # weight of the mirrored colour
    if copied.any():
        distance = cv2.distanceTransform((~copied).astype(np.uint8), cv2.DIST_L2, 3)
        # The two halves are lit differently: scale the copy per channel so that, where both
        # halves are seen next to the copied area, its mean matches the texture's own.
        near = visible & mirror_visible & (distance < 3 * max(feather, 1))
        if near.any():
            gain = texture[near].mean(axis=0) / np.maximum(mirrored[near].mean(axis=0), 1.0)
            mirrored = mirrored * np.clip(gain, *_MIRROR_GAIN_RANGE)
        if feather > 0:
            # A blurred copy mask rather than a distance ramp: the visibility boundary is
            # ragged at grazing angles, and the blur smooths the seam along it too.
            soft = cv2.GaussianBlur(copied.astype(np.float32), (0, 0), feather / 2)
            band = visible & mirror_visible
            weight[band] = np.minimum(2.0 * soft[band], 1.0)
    blended = np.clip(texture * (1.0 - weight[..., None]) + mirrored * weight[..., None], 0, 255)
    result = np.where((visible | copied)[..., None], np.rint(blended), 0).astype(np.uint8)
    filled = _inpaint(result, visible | copied, inpaint_radius)
    return np.where(mask[..., None], filled, 0).astype(np.uint8)
