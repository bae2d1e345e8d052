"""Face swap: one face's UV texture drawn onto another face's geometry and pose, then blended.

PRN's idea: the UV texture is pose-free, so the source face's texture, rendered with the
target face's position map, lands on the target face at the target's pose and shape.

Steps of :func:`swap_face`:

1. the source's texture is sampled from the source photo at the topology's resolution
   (:func:`facerecon.apps.texture.uv_texture`) and its hidden texels are filled
   (``fill``, default "mirror": :func:`facerecon.apps.texture.fill_hidden`);
2. it is rendered with the target's position map (z-buffer, so the target's own
   self-occlusion holds), over the UV ``region`` (default "face": between the ears, brows to
   chin; the eye and mouth openings of the mesh stay the target's own);
3. the rendered face pixels are colour-matched to the target's face pixels under the same
   mask (:func:`facerecon.apps.blend.match_colors`, Lab mean/std);
4. they are blended into the target photo with Poisson editing inside the rendered region
   shrunk by ``erode`` pixels (:func:`facerecon.apps.blend.blend_into`). Pixels outside that
   mask are the target's, unchanged.

Position maps are image space ((R, R, 3): x, y image pixels, z same scale, larger nearer).
"""

from __future__ import annotations

import numpy as np

from facerecon.apps.blend import BlendResult, blend_into, erode, match_colors, render_texture
from facerecon.apps.texture import checked_posmap, fill_hidden, rgb_image, uv_texture
from facerecon.errors import InvalidInputError
from facerecon.topology.uv_topology import UVTopology

__all__ = ["SwapResult", "face_texture", "region_uv_mask", "swap_face", "swap_faces"]

SwapResult = BlendResult
REGION_NAMES = ("face", "eyes", "eye_right", "eye_left", "nose", "mouth", "all")


def region_uv_mask(region, topology: UVTopology) -> np.ndarray:
    """(R, R) bool UV mask of a named region, or a caller's mask checked.

    Args:
        region: ``"face"``, ``"eyes"`` (both eyes), ``"eye_right"``, ``"eye_left"`` (the
            subject's), ``"nose"``, ``"mouth"``, ``"all"`` (the whole ``uv_mask``), or an
            (R, R) bool array (cut to ``uv_mask``). Masks come from ``topology.region_masks``.
    """
    masks = topology.region_masks
    if isinstance(region, str):
        if region not in REGION_NAMES:
            raise InvalidInputError(f"region must be one of {REGION_NAMES} or a mask, "
                                    f"got {region!r}")
        if region == "all":
            return topology.uv_mask
        if region == "eyes":
            return masks["eye_right"] | masks["eye_left"]
        return masks[region]
    array = np.asarray(region)
    size = topology.resolution
    if array.shape != (size, size) or array.dtype != np.bool_:
        raise InvalidInputError(f"a region mask must be ({size}, {size}) bool, "
                                f"got {array.dtype} {array.shape}")
    if not (array & topology.uv_mask).any():
        raise InvalidInputError("the region mask holds no pixel of the UV mask")
    return array & topology.uv_mask


def face_texture(image, posmap_image, topology: UVTopology, fill: str = "mirror") -> np.ndarray:
    """(R, R, 3) uint8 texture of a face with its hidden texels filled (``fill`` method).

    Raises:
        InvalidInputError: bad inputs, or no texel of the face is visible in the image (the
            face is off the image: there is nothing to take from it).
    """
    sampled = uv_texture(image, posmap_image, topology)
    if not sampled.visible.any():
        raise InvalidInputError("the source face shows no visible texel in its image "
                                "(is the position map in image space, on the image?)")
    return fill_hidden(sampled.texture, sampled.visible, topology, method=fill)


def _target_checked(target_image, target_posmap_image, topology):
    return (rgb_image(target_image, "target_image"),
            checked_posmap(target_posmap_image, topology, "target_posmap_image"))


def swap_face(source_image, source_posmap_image, target_image, target_posmap_image,
              topology: UVTopology, *, region="face", color_match: str = "lab",
              blend: str = "poisson", erode_pixels: int = 3, fill: str = "mirror",
              source_texture: np.ndarray | None = None) -> SwapResult:
    """Put the source face onto the target face (module docstring for the steps).

    Args:
        source_image: (H1, W1, 3) uint8 RGB photo of the source face.
        source_posmap_image: (R, R, 3) image-space position map of the source face.
        target_image: (H, W, 3) uint8 RGB photo to edit.
        target_posmap_image: (R, R, 3) image-space position map of the target face.
        topology: the UV topology of both maps.
        region: UV region replaced (:func:`region_uv_mask`), default "face".
        color_match: "lab" or "none" (:func:`facerecon.apps.blend.match_colors`).
        blend: "poisson" or "paste" (:func:`facerecon.apps.blend.blend_into`).
        erode_pixels: the rendered region is shrunk by this many pixels to give the blend
            mask (keeps the silhouette's mixed pixels out).
        fill: how hidden source texels are filled (:func:`facerecon.apps.texture.fill_hidden`).
        source_texture: optional precomputed (T, T, 3) uint8 source texture in the UV layout
            (skips the sampling; :func:`swap_faces` uses it).

    Returns:
        :class:`SwapResult` (``image``, ``mask``): pixels outside ``mask`` equal the target's.
        An empty mask (target face off the image) gives an unchanged copy.

    Raises:
        InvalidInputError: bad images or maps, unknown options, a source without a visible
            face.
    """
    target, target_posmap = _target_checked(target_image, target_posmap_image, topology)
    if source_texture is None:
        source_texture = face_texture(rgb_image(source_image, "source_image"),
                                      checked_posmap(source_posmap_image, topology,
                                                     "source_posmap_image"), topology, fill)
    else:
        source_texture = rgb_image(source_texture, "source_texture")
        if source_texture.shape[0] != source_texture.shape[1]:
            raise InvalidInputError(f"source_texture must be square, got {source_texture.shape}")
    if int(erode_pixels) < 0:
        raise InvalidInputError(f"erode_pixels must be >= 0, got {erode_pixels}")
    rendered = render_texture(target, target_posmap, topology, source_texture,
                              region_uv_mask(region, topology))
    mask = erode(rendered.region, int(erode_pixels))
    recoloured = rendered.image.copy()
    recoloured[mask] = match_colors(rendered.image[mask], target[mask], color_match)
    return blend_into(target, recoloured, mask, blend)


def back_to_front(posmaps: list[np.ndarray], topology: UVTopology) -> list[int]:
    """Indices of faces ordered farthest first (mean z of the valid pixels; larger = nearer)."""
    depths = [float(np.mean(p[topology.uv_mask][:, 2])) for p in posmaps]
    return sorted(range(len(posmaps)), key=lambda i: depths[i])


def swap_faces(source_image, source_posmap_image, target_image, target_posmaps,
               topology: UVTopology, **options) -> SwapResult:
    """:func:`swap_face` onto every face of the target photo.

    Faces are processed back to front (by mean depth), each on the previous result, so a
    nearer face overlapping a farther one ends up on top. ``options`` are those of
    :func:`swap_face`; the source texture is sampled once.

    Args:
        target_posmaps: sequence of (R, R, 3) image-space position maps, one per target face.

    Returns:
        :class:`SwapResult` with the union of the blend masks.

    Raises:
        InvalidInputError: no target face, or as :func:`swap_face`.
    """
    target = rgb_image(target_image, "target_image")
    posmaps = [checked_posmap(p, topology, f"target_posmaps[{i}]")
               for i, p in enumerate(posmap_list(target_posmaps))]
    texture = options.pop("source_texture", None)
    if texture is None:
        texture = face_texture(rgb_image(source_image, "source_image"),
                               checked_posmap(source_posmap_image, topology,
                                              "source_posmap_image"),
                               topology, options.pop("fill", "mirror"))
    image, union = target, np.zeros(target.shape[:2], dtype=bool)
    for index in back_to_front(posmaps, topology):
        result = swap_face(None, None, image, posmaps[index], topology,
                           source_texture=texture, **options)
        image, union = result.image, union | result.mask
    return SwapResult(image=image.copy() if image is target else image, mask=union)


def posmap_list(posmaps) -> list:
    if isinstance(posmaps, np.ndarray) and posmaps.ndim == 4:
        posmaps = list(posmaps)
    if not isinstance(posmaps, list | tuple) or len(posmaps) == 0:
        raise InvalidInputError("target_posmaps must be a non-empty list of position maps "
                                "(the target photo has no face)")
    return list(posmaps)
