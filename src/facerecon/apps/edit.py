"""Region edit: replace one UV region of a face (eyes, nose, mouth, or any mask), as PRN's
eye-swap demo.

Steps of :func:`edit_region`:

1. the target's own texture is sampled and filled (:func:`facerecon.apps.swap.face_texture`);
2. the new content comes from another face (its photo and position map: its texture) or
   from a texture image in the UV layout; inside the region it is (optionally, Lab mean/std
   over the region's texels) colour-matched to the target's own texture there and written
   into a copy of the target's texture;
3. that texture is rendered at the target's pose over the region grown by ``margin`` texels:
   the ring around the region shows the target's own skin, so the Poisson blend
   (:func:`facerecon.apps.blend.blend_into`) meets the photo on matching colours;
4. only the rendered (grown) region's pixels can change.

Known limit: the eye and mouth openings of the UV layout are holes (no surface), so an
"eyes" edit replaces the eyelids and the skin around the eyes; the eyeballs seen through the
openings stay the target's.
"""

from __future__ import annotations

import cv2
import numpy as np

from facerecon.apps.blend import blend_into, dilate, match_colors, render_texture
from facerecon.apps.swap import SwapResult, back_to_front, face_texture, posmap_list, region_uv_mask
from facerecon.apps.texture import checked_posmap, rgb_image
from facerecon.errors import InvalidInputError
from facerecon.topology.uv_topology import UVTopology

__all__ = ["edit_region", "edit_regions", "source_texture_of"]


def source_texture_of(texture_source, topology: UVTopology, fill: str = "mirror") -> np.ndarray:
    """(R, R, 3) uint8 texture from ``(image, posmap_image)`` or a (T, T, 3) uint8 texture.

    A texture of another size is resized to R (bilinear, texel centres aligned).
    """
    if isinstance(texture_source, tuple | list):
        if len(texture_source) != 2:
            raise InvalidInputError("texture_source must be (image, posmap_image) or a texture")
        image, posmap = texture_source
        return face_texture(rgb_image(image, "source image"),
                            checked_posmap(posmap, topology, "source posmap"), topology, fill)
    texture = rgb_image(texture_source, "texture_source")
    if texture.shape[0] != texture.shape[1]:
        raise InvalidInputError(f"a texture must be square (T, T, 3), got {texture.shape}")
    size = topology.resolution
    if texture.shape[0] != size:
        texture = cv2.resize(texture, (size, size), interpolation=cv2.INTER_LINEAR)
    return texture


def edit_region(target_image, target_posmap_image, topology: UVTopology, region,
                texture_source, *, margin: int = 3, color_match: str = "none",
                blend: str = "poisson", fill: str = "mirror") -> SwapResult:
    """Replace one UV region of the target face (module docstring for the steps).

    Args:
        target_image: (H, W, 3) uint8 RGB photo.
        target_posmap_image: (R, R, 3) image-space position map of the target face.
        topology: the UV topology.
        region: "eyes", "eye_right", "eye_left", "nose", "mouth", "face", "all" or an (R, R)
            bool UV mask (:func:`facerecon.apps.swap.region_uv_mask`).
        texture_source: ``(source_image, source_posmap_image)`` of another face, or a
            (T, T, 3) uint8 RGB texture in the UV layout.
        margin: texels the region is grown by for rendering and blending (the blend seam
            lies on the target's own skin).
        color_match: "none" (default) or "lab". Poisson blending already carries the
            surrounding skin's colour into a small region; a Lab mean/std match over the
            region itself would wash out what is put there (make-up, paint, another eye
            colour), so it is off by default.
        blend: "poisson" or "paste".
        fill: how hidden texels of the sampled textures are filled.

    Returns:
        :class:`facerecon.apps.swap.SwapResult`: the edited photo and its blend mask (the
        rendered grown region); pixels outside the mask equal the target's.

    Raises:
        InvalidInputError: bad inputs or options; a source face without visible texels.
    """
    target = rgb_image(target_image, "target_image")
    posmap = checked_posmap(target_posmap_image, topology, "target_posmap_image")
    if int(margin) < 0:
        raise InvalidInputError(f"margin must be >= 0, got {margin}")
    inner = region_uv_mask(region, topology)
    grown = dilate(inner, int(margin)) & topology.uv_mask
    source = source_texture_of(texture_source, topology, fill)
    own = face_texture(target, posmap, topology, fill)

    texture = own.copy()
    texture[inner] = match_colors(source[inner], own[inner], color_match)
    rendered = render_texture(target, posmap, topology, texture, grown)
    return blend_into(target, rendered.image, rendered.region, blend)


def edit_regions(target_image, target_posmaps, topology: UVTopology, region, texture_source,
                 **options) -> SwapResult:
    """:func:`edit_region` on every face of the target photo, back to front by depth.

    Returns the final photo and the union of the blend masks.

    Raises:
        InvalidInputError: no target face, or as :func:`edit_region`.
    """
    target = rgb_image(target_image, "target_image")
    posmaps = [checked_posmap(p, topology, f"target_posmaps[{i}]")
               for i, p in enumerate(posmap_list(target_posmaps))]
    source = source_texture_of(texture_source, topology, options.get("fill", "mirror"))
    image, union = target, np.zeros(target.shape[:2], dtype=bool)
    for index in back_to_front(posmaps, topology):
        result = edit_region(image, posmaps[index], topology, region, source, **options)
        image, union = result.image, union | result.mask
    return SwapResult(image=image.copy() if image is target else image, mask=union)
