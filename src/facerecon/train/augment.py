"""PRN's training augmentation, on whole batches of torch tensors.

Per sample (all draws from one ``torch.Generator``, so a batch is a function of its seed):

0. mirror: with probability ``flip_prob``, the crop is mirrored left-right and so is the
   position map: its UV columns (``c -> R - 1 - c``, :func:`mirror_columns`) and its x
   (``x -> S - 1 - x``), so each UV point again sits on its own feature (the left eye's
   texels on the mirrored image's left eye). No draw is made when ``flip_prob`` is 0;
1. a 2D similarity (with a stretch: affine) about the crop centre ``c = (S - 1) / 2`` (pixel
   centres at integers):
   ``p' = s R(theta) (p - c) + c + t`` with theta uniform in +-``rotation_deg``, s in
   [``scale_min``, ``scale_max``], t uniform in +-``translation`` x S per axis; with
   ``aspect_max > 1`` the face is first stretched, ``diag(sqrt(a), 1/sqrt(a))`` with ``a``
   log-uniform in [1/``aspect_max``, ``aspect_max``] (wider or taller by up to that factor,
   area kept), so that the network reads a face's proportions from the photo instead of
   assuming typical ones. The image is resampled by it (bilinear, black outside) and the
   position map's x, y are mapped by it, z multiplied by ``sqrt(det)`` (s) — so every UV
   point stays on the image feature it was on;
2. frame: with probability ``frame_prob``, every pixel outside an axis-aligned rectangle is
   made black. Its edges are placed relative to the face's extent in the crop (the warped
   position map's x, y range over the UV mask: width ``w``, height ``h``), each drawn
   uniformly in :data:`FRAME_OFFSETS` (a fraction of ``w`` or ``h``; > 0 cuts into the face,
   < 0 leaves a margin): UTKFace's tight photos end 0.03 landmark-box heights below the chin
   (median, build v3), so without it the photo's edge tells the network where the chin is
   (AFLW2000-3D photos blacked out the same way around their ground truth lift v6's mouth
   from 4.11 to 1.14 % of the box below the annotation: benchmarks/aflw2000_framed.py). The
   background step then fills the new black as any other.
   No draw is made when ``frame_prob`` is 0;
3. background: with probability ``background_prob``, the crop's black parts (pixels outside
   the photo: build crops of tight photos such as UTKFace's, and the similarity's padding;
   near-black regions at least 3 blocks of ``BLACK_BLOCK`` pixels wide, see
   :func:`black_regions`) are filled with a smooth random colour or with another crop of the
   batch (flipped both ways; its own black parts get the colour), or, for a share
   ``background_replicate`` of them, by continuing the photo (:func:`replicate_photo`: each
   black pixel takes the nearest photo pixel of its column, else of its row; no draw is made
   when it is 0). The plain fills keep the photo's edge; UTKFace's end just below the chin,
   so the network learned to end the face where the photo ends (model v6's chin follows
   such an edge, benchmarks/aflw2000_framed.py). Without the background step 91 % of the
   training crops frame the face with black, a shortcut real photos do not offer (the
   v1 model's loss rose 5x when the frame was filled: benchmarks/background_shortcut.py);
4. a per-channel colour gain in [``color_min``, ``color_max``];
5. synthetic occlusion: with probability ``occlusion_prob``, 1 to ``occlusion_max_count``
   axis-aligned rectangles or ellipses (sides ``occlusion_min_size`` .. ``max_size`` x S)
   filled with uniform noise (in 4 x 4 pixel blocks) or with the texture of another
   (flipped) crop of the batch.
   The position map is not changed: the network must predict the occluded face;
6. resolution: with probability ``lowres_prob``, the crop is shrunk to a side of ``f`` x S,
   ``f`` uniform in [``lowres_min_scale``, 1) (area average), and enlarged back (bilinear):
   the same face photographed with fewer pixels, or slightly out of focus. Without it the
   v5 model drew the chin 2.3 % of the face box lower on 300-W photos blurred by 1.5 px
   (``benchmarks/blur_sensitivity.py``). No draw is made when ``lowres_prob`` is 0.

Everything is vectorised over the batch (``affine_grid``/``grid_sample`` and broadcast masks).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from facerecon.train.config import AugmentConfig

BLACK_LEVEL = 6.0  # JPEG keeps build crops' black margins within a few levels of 0
EDGE_LEVEL = 18.0  # ... except next to the photo's edge
BLACK_BLOCK = 4  # black regions are found on blocks of this many pixels (black_regions)
REPLICATE_EDGE = 2  # replicate_photo continues the photo from this many pixels inside it
#: Range (low, high) of each frame edge's offset into the face (left, top, right, bottom), as
#: a fraction of the face's width or height in the crop (the frame step).
FRAME_OFFSETS = ((-0.3, 0.1), (-0.3, 0.15), (-0.3, 0.1), (-0.3, 0.15))


def _uniform(shape, low: float, high: float, generator: torch.Generator) -> torch.Tensor:
    return low + (high - low) * torch.rand(shape, generator=generator, dtype=torch.float64)


def mirror_columns(uv_mask: torch.Tensor) -> torch.Tensor:
    """(R, R) long: the column each texel reads when a position map is mirrored.

    ``R - 1 - c``; where that texel is off the mask but ``c`` is on it (the 128 topology has
    one such texel, at the face's edge, loss weight 1), the on-mask column of the row nearest
    to ``R - 1 - c``.
    """
    size = uv_mask.shape[1]
    columns = torch.arange(size - 1, -1, -1, device=uv_mask.device).expand(size, size).clone()
    for row, column in (uv_mask & ~uv_mask.flip(1)).nonzero().tolist():
        valid = uv_mask[row].nonzero().flatten()
        columns[row, column] = valid[(valid - (size - 1 - column)).abs().argmin()]
    return columns


def mirror_posmaps(posmaps: torch.Tensor, columns: torch.Tensor, size: int) -> torch.Tensor:
    """The (B, R, R, 3) position maps (pixels of S = ``size`` crops) of the left-right mirrored
    crops: UV columns read through ``columns`` (:func:`mirror_columns`), ``x -> S - 1 - x``.
    Its own inverse on the texels whose mirror texel is also on the UV mask (all but one of
    the 128 topology's); a new tensor (differentiable)."""
    index = columns[None, :, :, None].expand(posmaps.shape[0], -1, -1, 3)
    mirrored = torch.gather(posmaps, 2, index)
    return torch.cat([(size - 1) - mirrored[..., :1], mirrored[..., 1:]], dim=-1)


def mirror_samples(images: torch.Tensor, posmaps: torch.Tensor, uv_mask: torch.Tensor,
                   chosen: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mirror the ``chosen`` ((B,) bool) samples of (B, S, S, 3) crops and their (B, R, R, 3)
    position maps (crop pixels) left-right; returns new tensors."""
    images, posmaps = images.clone(), posmaps.clone()
    images[chosen] = images[chosen].flip(2)
    posmaps[chosen] = mirror_posmaps(posmaps[chosen], mirror_columns(uv_mask), images.shape[2])
    return images, posmaps


def sample_affine(batch: int, size: int, config: AugmentConfig,
                  generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Random geometry: (B, 2, 2) float64 ``s R(theta) diag(sqrt(a), 1/sqrt(a))`` and (B, 2)
    translations in pixels; the stretch ``a`` is 1 (a similarity) unless
    ``config.aspect_max > 1``, and only then drawn."""
    angle = torch.deg2rad(_uniform(batch, -config.rotation_deg, config.rotation_deg, generator))
    scale = _uniform(batch, config.scale_min, config.scale_max, generator)
    shift = _uniform((batch, 2), -config.translation, config.translation, generator) * size
    cos, sin = torch.cos(angle), torch.sin(angle)
    rotation = torch.stack([torch.stack([cos, -sin], -1), torch.stack([sin, cos], -1)], -2)
    linear = scale[:, None, None] * rotation
    if config.aspect_max > 1:
        log_limit = float(torch.log(torch.tensor(config.aspect_max, dtype=torch.float64)))
        root = torch.exp(_uniform(batch, -log_limit, log_limit, generator) / 2)  # sqrt(a)
        linear = linear * torch.stack([root, 1 / root], -1)[:, None, :]  # columns: R diag
    return linear, shift


def warp_images(images: torch.Tensor, linear: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    """(B, 3, S, S) float images resampled so that pixel p moves to ``linear @ (p-c) + c + shift``.

    With ``align_corners=False`` the normalised coordinate of pixel p is ``(2p + 1)/S - 1``,
    i.e. ``(p - c) * 2/S``; the output pixel p' therefore samples the input at
    ``n = linear^-1 (n' - 2 shift / S)``.
    """
    size = images.shape[-1]
    inverse = torch.linalg.inv(linear)
    offset = -(inverse @ (2.0 * shift / size)[..., None])
    theta = torch.cat([inverse, offset], dim=2).to(images.device, images.dtype)
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def warp_posmaps(posmaps: torch.Tensor, uv_mask: torch.Tensor, size: int,
                 linear: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    """(B, R, R, 3) position maps in S-pixel crops mapped by the affine map; 0 off the mask."""
    centre = (size - 1) / 2.0
    coefficients = linear.to(posmaps.device, posmaps.dtype)[:, None, None]  # (B, 1, 1, 2, 2)
    offset = shift.to(posmaps.device, posmaps.dtype)[:, None, None]  # (B, 1, 1, 2)
    x = posmaps[..., 0] - centre
    y = posmaps[..., 1] - centre
    # Element-wise 2x2 products: several times faster than an einsum over (B, R, R).
    new_x = coefficients[..., 0, 0] * x + coefficients[..., 0, 1] * y + centre + offset[..., 0]
    new_y = coefficients[..., 1, 0] * x + coefficients[..., 1, 1] * y + centre + offset[..., 1]
    scale = torch.sqrt(torch.det(linear)).to(posmaps.device, posmaps.dtype)[:, None, None]
    result = torch.stack([new_x, new_y, posmaps[..., 2] * scale], dim=-1)
    return result * uv_mask[None, :, :, None].to(posmaps.device, posmaps.dtype)

def _occluders(images: torch.Tensor, config: AugmentConfig,
               generator: torch.Generator) -> torch.Tensor:
    """Paint random rectangles/ellipses of noise or texture on (B, 3, S, S) float images.

    Every draw is made for the whole batch (so the number of draws does not depend on how
    many samples are occluded); the painting only touches the occluded samples.
    """
    batch, _, size, _ = images.shape
    slots = config.occlusion_max_count
    occluded = torch.rand(batch, generator=generator) < config.occlusion_prob
    count = torch.randint(1, slots + 1, (batch,), generator=generator)
    centre = torch.rand((batch, slots, 2), generator=generator) * size
    half = _uniform((batch, slots, 2), config.occlusion_min_size, config.occlusion_max_size,
                    generator).float() * size / 2
    ellipse = torch.rand((batch, slots), generator=generator) < 0.5
    use_noise = torch.rand((batch, slots), generator=generator) < 0.5
    chosen = torch.nonzero(occluded).flatten()
    if len(chosen) == 0:
        return images
    # Blocky noise (4 x 4 pixel cells): 16x fewer random draws than per-pixel noise.
    coarse = torch.rand((len(chosen), 3, -(-size // 4), -(-size // 4)), generator=generator)
    # Draws come from a CPU generator (same numbers on any device); the painting runs on
    # the images' device.
    device = images.device
    noise = F.interpolate(coarse.to(device) * 255.0, scale_factor=4,
                          mode="nearest")[..., :size, :size]
    centre, half = centre[chosen].to(device), half[chosen].to(device)
    ellipse, use_noise = ellipse[chosen].to(device), use_noise[chosen].to(device)
    count = count[chosen].to(device)
    chosen = chosen.to(device)
    # Texture from another crop of the batch, flipped both ways so a batch of one works too.
    texture = torch.roll(images, 1, dims=0)[chosen].flip(-1, -2)
    coords = torch.arange(size, dtype=torch.float32, device=device)
    dx = (coords[None, None, None, :] - centre[..., 0, None, None]) / half[..., 0, None, None]
    dy = (coords[None, None, :, None] - centre[..., 1, None, None]) / half[..., 1, None, None]
    inside = torch.where(ellipse[..., None, None], dx**2 + dy**2 <= 1,
                         (dx.abs() <= 1) & (dy.abs() <= 1))  # (n, K, S, S)
    slot_index = torch.arange(slots, device=device)
    inside &= (slot_index[None, :] < count[:, None])[..., None, None]
    painted = images[chosen]
    for slot in range(slots):
        fill = torch.where(use_noise[:, slot, None, None, None], noise, texture)
        painted = torch.where(inside[:, slot, None], fill, painted)
    result = images.clone()
    result[chosen] = painted
    return result


def _frames(images: torch.Tensor, posmaps: torch.Tensor, uv_mask: torch.Tensor,
            probability: float, generator: torch.Generator) -> torch.Tensor:
    """Black out chosen (B, 3, S, S) float images outside a rectangle placed about the face
    extent of their (B, R, R, 3) crop-pixel position maps (module docstring, step 2)."""
    batch, _, size, _ = images.shape
    chosen = torch.rand(batch, generator=generator) < probability
    low, high = torch.tensor(FRAME_OFFSETS, dtype=torch.float32).T
    offsets = low + (high - low) * torch.rand((batch, 4), generator=generator)
    if not chosen.any():
        return images
    device = images.device
    points = posmaps[..., :2][:, uv_mask.to(posmaps.device)].float()  # (B, N, 2)
    lowest, highest = points.amin(dim=1), points.amax(dim=1)
    extent = (highest - lowest).clamp_min(1.0)
    offsets = offsets.to(device) * extent.repeat(1, 2)
    start, stop = lowest + offsets[:, :2], highest - offsets[:, 2:]
    coords = torch.arange(size, dtype=torch.float32, device=device)
    inside_x = (coords >= start[:, 0, None]) & (coords <= stop[:, 0, None])  # (B, S)
    inside_y = (coords >= start[:, 1, None]) & (coords <= stop[:, 1, None])
    keep = (inside_y[:, :, None] & inside_x[:, None, :]) | ~chosen.to(device)[:, None, None]
    return images * keep[:, None].to(images.dtype)


def _lower_resolution(images: torch.Tensor, config: AugmentConfig,
                      generator: torch.Generator) -> torch.Tensor:
    """Shrink chosen (B, 3, S, S) float images (area) and enlarge them back (bilinear)."""
    batch, _, size, _ = images.shape
    chosen = torch.rand(batch, generator=generator) < config.lowres_prob
    factors = _uniform(batch, config.lowres_min_scale, 1.0, generator)
    result = images.clone()
    for index in torch.nonzero(chosen).flatten().tolist():
        small = max(2, round(size * float(factors[index])))
        if small >= size:
            continue
        shrunk = F.interpolate(images[index : index + 1], size=(small, small), mode="area")
        result[index] = F.interpolate(shrunk, size=(size, size), mode="bilinear",
                                      align_corners=False)[0]
    return result


def _max_filter(mask: torch.Tensor, width: int) -> torch.Tensor:
    """``width`` x ``width`` maximum of a (B, 1, H, W) float mask (same size)."""
    return F.max_pool2d(mask, width, stride=1, padding=width // 2)


def black_regions(images: torch.Tensor) -> torch.Tensor:
    """(B, 1, S, S) bool: the black parts of (B, 3, S, S) float images.

    Worked out on ``BLACK_BLOCK``-pixel blocks (stride-1 pooling at full resolution cost
    ~50 ms per pass on a batch of 32): blocks whose pixels all have ``max(R, G, B) <=
    BLACK_LEVEL``, opened with a 3 x 3 block window (regions narrower than 3 blocks, such as
    pupils and nostrils, drop out) and grown by one block; in there, every pixel up to
    ``EDGE_LEVEL`` (JPEG's ringing along the photo's edge) counts.
    """
    size = images.shape[-1]
    level = images.amax(dim=1, keepdim=True)
    dark = (level <= BLACK_LEVEL).float()
    blocks = -F.max_pool2d(-dark, BLACK_BLOCK, stride=BLACK_BLOCK, ceil_mode=True)
    opened = _max_filter(-_max_filter(-blocks, 3), 3)
    grown = F.interpolate(_max_filter(opened, 3), scale_factor=BLACK_BLOCK, mode="nearest")
    return (grown[..., :size, :size] > 0) & (level <= EDGE_LEVEL)


def _nearest_valid(valid: torch.Tensor, dim: int) -> tuple[torch.Tensor, torch.Tensor]:
    """For (B, 1, S, S) bool ``valid``: the index along ``dim`` of each pixel's nearest valid
    pixel on its line (ties: the lower index), and whether its line has one."""
    size = valid.shape[dim]
    shape = [1, 1, 1, 1]
    shape[dim] = size
    index = torch.arange(size, device=valid.device).view(shape).expand_as(valid)
    before = torch.where(valid, index, -1).cummax(dim).values
    after = torch.where(valid, index, size).flip(dim).cummin(dim).values.flip(dim)
    use_before = (before >= 0) & ((after >= size) | (index - before <= after - index))
    nearest = torch.where(use_before, before, after)
    return nearest.clamp(0, size - 1), (before >= 0) | (after < size)


def replicate_photo(images: torch.Tensor, regions: torch.Tensor,
                    edge: int = REPLICATE_EDGE) -> torch.Tensor:
    """(B, 3, S, S) float images with the pixels of ``regions`` ((B, 1, S, S) bool, e.g.
    :func:`black_regions`), grown by ``edge`` pixels, set to the nearest other pixel of their
    column, or of their row where the column has none; pixels with neither keep their value.
    The growth replaces the photo's outermost pixels too: resampling blends them with the
    black, and continuing them would draw a dark band along the photo's edge."""
    regions = _max_filter(regions.float(), 2 * edge + 1) > 0 if edge > 0 else regions
    result = images
    for dim in (2, 3):  # columns (along rows), then rows
        nearest, found = _nearest_valid(~regions, dim)
        taken = torch.gather(result, dim, nearest.expand_as(result))
        result = torch.where(regions & found, taken, result)
        regions = regions & ~found
    return result


def _backgrounds(images: torch.Tensor, probability: float,
                 generator: torch.Generator, replicate: float = 0.0) -> torch.Tensor:
    """Fill the black regions of chosen (B, 3, S, S) float images with a background
    (module docstring, step 3; ``replicate`` is ``background_replicate``)."""
    batch, _, size, _ = images.shape
    chosen = torch.rand(batch, generator=generator) < probability
    use_noise = torch.rand(batch, generator=generator) < 0.5
    use_photo = (torch.rand(batch, generator=generator) < replicate if replicate > 0
                 else torch.zeros(batch, dtype=torch.bool))
    # Smooth noise: a random colour whose brightness varies by +-60 levels over an 8 x 8 grid
    # upsampled bilinearly (walls, sky, blurred rooms rather than confetti).
    base = torch.rand((batch, 3, 1, 1), generator=generator) * 255.0
    coarse = (base + (torch.rand((batch, 1, 8, 8), generator=generator) - 0.5) * 120.0)
    coarse = coarse.clamp(0.0, 255.0)
    chosen = torch.nonzero(chosen).flatten()
    if len(chosen) == 0:
        return images
    device = images.device
    noise = F.interpolate(coarse[chosen].to(device), size=(size, size), mode="bilinear",
                          align_corners=False)
    regions = black_regions(images)
    # Another crop of the batch, flipped both ways; its own black parts get the noise.
    donor = (chosen + 2) % batch
    other = torch.where(regions[donor], noise, images[donor]).flip(-1, -2)
    fill = torch.where(use_noise[chosen].to(device)[:, None, None, None], noise, other)
    filled = torch.where(regions[chosen], fill, images[chosen])
    continued = chosen[use_photo[chosen]]  # only these crops pay for the replicate fill
    if len(continued):
        filled[use_photo[chosen].to(device)] = replicate_photo(images[continued],
                                                               regions[continued])
    chosen = chosen.to(device)
    result = images.clone()
    result[chosen] = filled
    return result


def fill_black_regions(images: torch.Tensor, probability: float,
                       generator: torch.Generator) -> torch.Tensor:
    """The background step alone on (B, S, S, 3) uint8 crops (returns new uint8 crops): with
    ``probability`` per crop, its black regions get a background. Validation uses it with
    probability 1 so that its crops look like real photos, framed by a scene, not by black."""
    floats = images.permute(0, 3, 1, 2).to(torch.float32)
    filled = _backgrounds(floats, probability, generator)
    return filled.round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).contiguous()


def augment_batch(images: torch.Tensor, posmaps: torch.Tensor, uv_mask: torch.Tensor,
                  config: AugmentConfig, generator: torch.Generator
                  ) -> tuple[torch.Tensor, torch.Tensor]:
    """Augment a batch; inputs are not modified.

    Args:
        images: (B, S, S, 3) uint8 RGB crops.
        posmaps: (B, R, R, 3) float32 position maps in pixels of the S crop.
        uv_mask: (R, R) bool valid UV pixels (the result is 0 elsewhere).
        config: the augmentation parameters.
        generator: the source of every random draw.

    Returns:
        (B, S, S, 3) uint8 images and (B, R, R, 3) float32 position maps.
    """
    batch, size = images.shape[0], images.shape[1]
    if config.flip_prob > 0:
        chosen = torch.rand(batch, generator=generator) < config.flip_prob
        images, posmaps = mirror_samples(images, posmaps, uv_mask, chosen.to(images.device))
    linear, shift = sample_affine(batch, size, config, generator)
    floats = images.permute(0, 3, 1, 2).to(torch.float32)
    warped = warp_images(floats, linear, shift)
    out_posmaps = warp_posmaps(posmaps, uv_mask, size, linear, shift)
    if config.frame_prob > 0:
        warped = _frames(warped, out_posmaps, uv_mask, config.frame_prob, generator)
    if config.background_prob > 0:
        warped = _backgrounds(warped, config.background_prob, generator,
                              config.background_replicate)
    gains = _uniform((batch, 3), config.color_min, config.color_max, generator).float()
    gains = gains.to(images.device)
    coloured = (warped * gains[:, :, None, None]).clamp(0, 255)
    if config.occlusion_prob > 0:
        coloured = _occluders(coloured, config, generator)
    if config.lowres_prob > 0:
        coloured = _lower_resolution(coloured, config, generator)
    out_images = coloured.round().to(torch.uint8).permute(0, 2, 3, 1).contiguous()
    return out_images, out_posmaps

