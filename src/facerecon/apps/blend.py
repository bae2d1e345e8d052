"""Put a UV texture onto a face in a photo: render at the face's pose, match colours, blend.

The building blocks of :mod:`facerecon.apps.swap` and :mod:`facerecon.apps.edit`.
Position maps are image space (:mod:`facerecon.apps.texture`); images are (H, W, 3) uint8 RGB.

Colour matching (``color_match="lab"``) is Reinhard et al.'s transfer: per channel of CIE
L*a*b* (OpenCV's float conversion: L in [0, 100], a and b about [-127, 127]), the rendered
face pixels are shifted and scaled so that their mean and standard deviation equal those of
the photo's own face pixels under the same mask. The scale is clamped to [0.5, 2] so that a
nearly flat region cannot blow noise up.

Blending (``blend="poisson"``) is OpenCV's ``seamlessClone`` with ``NORMAL_CLONE``: inside
the blend mask the result keeps the rendered face's gradients and meets the photo at the
mask's border. Pixels outside the blend mask are copied from the photo unchanged, exactly.
``blend="paste"`` copies the rendered pixels inside the mask as they are.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from facerecon.errors import InvalidInputError
from facerecon.posmap import decode
from facerecon.render.rasterize import rasterize
from facerecon.topology.uv_topology import UVTopology

__all__ = ["BLEND_METHODS", "COLOR_MATCH_METHODS", "BlendResult", "RenderedFace", "blend_into",
           "match_colors", "render_texture"]

BLEND_METHODS = ("poisson", "paste")
COLOR_MATCH_METHODS = ("lab", "none")
_GAIN_RANGE = (0.5, 2.0)
_CLONE_EROSION = 3  # pixels; see _seamless_clone


@dataclass(frozen=True)
class BlendResult:
    """An edited photo.

    Attributes:
        image: (H, W, 3) uint8 RGB, a new array.
        mask: (H, W) bool, the blend mask: every pixel outside it equals the input photo.
    """

    image: np.ndarray
    mask: np.ndarray


@dataclass(frozen=True)
class RenderedFace:
    """A texture drawn at a face's pose.

    Attributes:
        image: (H, W, 3) uint8 RGB, the photo with the texture drawn where ``region`` is.
        region: (H, W) bool pixels drawn from the chosen UV region (nearest surface only).
        face: (H, W) bool pixels covered by the whole face mesh.
    """

    image: np.ndarray
    region: np.ndarray
    face: np.ndarray


def render_texture(image: np.ndarray, posmap: np.ndarray, topology: UVTopology,
                   texture: np.ndarray, region_uv: np.ndarray | None = None) -> RenderedFace:
    """Draw ``texture`` (any T x T in the UV layout) onto a copy of ``image`` at the face's pose.

    The whole face mesh goes into the z-buffer, so a region is drawn only where it is the
    nearest surface; only triangles whose three vertices lie in ``region_uv`` (an (R, R)
    bool UV mask; default the whole ``uv_mask``) are drawn. Same result as
    :func:`facerecon.render.render_textured` with :func:`facerecon.apps.texture.face_uvs`
    (bilinear lookup, texel centres at (c + 0.5) / T), from one rasterisation.
    """
    height, width = image.shape[:2]
    vertices = decode(posmap, topology).vertices
    rows, cols = np.divmod(topology.valid_indices, topology.resolution)
    scale = texture.shape[0] / topology.resolution
    # Texel coordinates of each vertex in this texture (centre of UV pixel -> texel centre).
    texel_xy = np.stack([(cols + 0.5) * scale - 0.5, (rows + 0.5) * scale - 0.5], axis=1)
    raster = rasterize(vertices, topology.triangles, height, width, attributes=texel_xy)
    face = raster.mask
    region = face
    if region_uv is not None:
        in_region = region_uv.reshape(-1)[topology.valid_indices][topology.triangles].all(axis=1)
        region = face & in_region[np.maximum(raster.triangle_index, 0)]
    lookup = cv2.remap(texture, raster.attributes[..., 0], raster.attributes[..., 1],
                       cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    rendered = image.copy()
    rendered[region] = lookup[region]
    return RenderedFace(image=rendered, region=region, face=face)


def _lab(pixels: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(pixels.reshape(-1, 1, 3).astype(np.float32) / 255.0,
                        cv2.COLOR_RGB2Lab).reshape(-1, 3)


def match_colors(pixels: np.ndarray, reference: np.ndarray, method: str = "lab") -> np.ndarray:
    """Recolour ``pixels`` so their Lab mean and standard deviation match ``reference``'s.

    Args:
        pixels: (K, 3) uint8 RGB to recolour.
        reference: (L, 3) uint8 RGB whose statistics are wanted.
        method: ``"lab"`` (module docstring) or ``"none"`` (returned unchanged).

    Returns:
        (K, 3) uint8 RGB, a new array.
    """
    if method not in COLOR_MATCH_METHODS:
        raise InvalidInputError(f"color_match must be one of {COLOR_MATCH_METHODS}, "
                                f"got {method!r}")
    if method == "none" or len(pixels) == 0 or len(reference) == 0:
        return np.array(pixels, dtype=np.uint8)
    source = _lab(pixels)
    target = _lab(reference)
    gain = np.clip(target.std(axis=0) / np.maximum(source.std(axis=0), 1e-6), *_GAIN_RANGE)
    matched = (source - source.mean(axis=0)) * gain + target.mean(axis=0)
    rgb = cv2.cvtColor(matched.reshape(-1, 1, 3).astype(np.float32), cv2.COLOR_Lab2RGB)
    return np.clip(np.rint(rgb.reshape(-1, 3) * 255.0), 0, 255).astype(np.uint8)


def _seamless_clone(source: np.ndarray, target: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Poisson blend of ``source`` into ``target`` inside ``mask``, in place (same size)."""
    # seamlessClone places the mask's bounding box at `center` and wants it clear of the
    # image border; pad both images so a face at the border works, and crop afterwards.
    pad = 4 + _CLONE_EROSION
    padded = [cv2.copyMakeBorder(a, pad, pad, pad, pad, cv2.BORDER_REFLECT)
              for a in (source, target)]
    # OpenCV erodes the mask by 3 px (three 3x3 erosions) before taking the source's
    # gradients, which wipes out thin regions (an eyelid ring); grow it by as much first.
    # Pixels outside the caller's mask are discarded afterwards anyway.
    mask8 = dilate(np.pad(mask, pad), _CLONE_EROSION).astype(np.uint8) * 255
    x, y, w, h = cv2.boundingRect(mask8)
    # With this centre, OpenCV's ROI (centre - size // 2) is exactly the bounding box.
    center = (x + w // 2, y + h // 2)
    cloned = cv2.seamlessClone(cv2.cvtColor(padded[0], cv2.COLOR_RGB2BGR),
                               cv2.cvtColor(padded[1], cv2.COLOR_RGB2BGR),
                               mask8, center, cv2.NORMAL_CLONE)
    return cv2.cvtColor(cloned, cv2.COLOR_BGR2RGB)[pad:-pad, pad:-pad]


def blend_into(target: np.ndarray, rendered: np.ndarray, mask: np.ndarray,
               blend: str = "poisson") -> BlendResult:
    """Blend ``rendered`` into ``target`` inside ``mask``; outside it ``target`` stays exact.

    Args:
        target: (H, W, 3) uint8 RGB photo.
        rendered: (H, W, 3) uint8 RGB, same size, the content to put in.
        mask: (H, W) bool blend mask.
        blend: ``"poisson"`` or ``"paste"`` (module docstring).
    """
    if blend not in BLEND_METHODS:
        raise InvalidInputError(f"blend must be one of {BLEND_METHODS}, got {blend!r}")
    mask = mask.astype(bool)
    if not mask.any():
        return BlendResult(image=target.copy(), mask=mask)
    source = _seamless_clone(rendered, target, mask) if blend == "poisson" else rendered
    return BlendResult(image=np.where(mask[..., None], source, target).astype(np.uint8),
                       mask=mask)


def erode(mask: np.ndarray, pixels: int) -> np.ndarray:
    """``mask`` shrunk by ``pixels`` (elliptic kernel); returned as is for 0."""
    if pixels <= 0:
        return mask
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * pixels + 1,) * 2)
    return cv2.erode(mask.astype(np.uint8), kernel).astype(bool)


def dilate(mask: np.ndarray, pixels: int) -> np.ndarray:
    """``mask`` grown by ``pixels`` (elliptic kernel); returned as is for 0."""
    if pixels <= 0:
        return mask
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * pixels + 1,) * 2)
    return cv2.dilate(mask.astype(np.uint8), kernel).astype(bool)
