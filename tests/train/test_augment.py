import dataclasses

import numpy as np
import pytest
import torch

from facerecon.errors import InvalidInputError
from facerecon.topology import load_topology
from facerecon.train.augment import (
    BLACK_LEVEL,
    FRAME_OFFSETS,
    augment_batch,
    black_regions,
    fill_black_regions,
    mirror_columns,
    mirror_samples,
    replicate_photo,
    sample_affine,
)
from facerecon.train.config import AugmentConfig

SIZE = 128
GEOMETRY_ONLY = AugmentConfig(color_min=1.0, color_max=1.0, occlusion_prob=0.0,
                              background_prob=0.0)
IDENTITY = AugmentConfig(rotation_deg=0, translation=0, scale_min=1, scale_max=1, color_min=1,
                         color_max=1, occlusion_prob=0, background_prob=0)


def _coordinate_image() -> torch.Tensor:
    """(1, S, S, 3) uint8: red = 2 x column, green = 2 x row (pixels encode their position)."""
    rows, cols = np.mgrid[0:SIZE, 0:SIZE]
    image = np.stack([2 * cols, 2 * rows, np.full_like(rows, 128)], axis=-1).astype(np.uint8)
    return torch.from_numpy(image)[None]


def _face_posmap() -> tuple[torch.Tensor, torch.Tensor]:
    topology = load_topology(SIZE)
    return (torch.from_numpy(topology.canonical_posmap.copy())[None],
            torch.tensor(topology.uv_mask))


def _bilinear(image: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    x0, y0 = np.floor(x).astype(int), np.floor(y).astype(int)
    fx, fy = (x - x0)[:, None], (y - y0)[:, None]
    pixel = image.astype(np.float64)
    return ((1 - fx) * (1 - fy) * pixel[y0, x0] + fx * (1 - fy) * pixel[y0, x0 + 1]
            + (1 - fx) * fy * pixel[y0 + 1, x0] + fx * fy * pixel[y0 + 1, x0 + 1])


STRETCHED = dataclasses.replace(GEOMETRY_ONLY, aspect_max=1.2)


@pytest.mark.parametrize(("seed", "config"), [(seed, GEOMETRY_ONLY) for seed in range(4)]
                         + [(seed, STRETCHED) for seed in range(2)])
def test_posmap_points_stay_on_their_image_features(seed, config):
    image = _coordinate_image()
    posmap, mask = _face_posmap()
    generator = torch.Generator().manual_seed(seed)
    out_image, out_posmap = augment_batch(image, posmap, mask, config, generator)
    before = posmap[0].numpy()[mask.numpy()]
    after = out_posmap[0].numpy()[mask.numpy()]
    # Points that land inside the augmented crop (away from its black border) must read the
    # original position of the same UV point back from the pixel values.
    inside = np.all((after[:, :2] > 1) & (after[:, :2] < SIZE - 2), axis=1)
    inside &= np.all((before[:, :2] > 1) & (before[:, :2] < SIZE - 2), axis=1)
    assert inside.sum() > 1000
    read = _bilinear(out_image[0].numpy(), after[inside, 0], after[inside, 1])
    error = np.abs(read[:, :2] / 2 - before[inside, :2])
    assert np.percentile(error, 99) < 0.6 and error.max() < 1.5


def test_mirrored_posmap_points_sit_on_the_mirror_features():
    image = _coordinate_image()
    posmap, mask = _face_posmap()
    config = AugmentConfig(rotation_deg=0, translation=0, scale_min=1, scale_max=1, color_min=1,
                           color_max=1, occlusion_prob=0, background_prob=0, flip_prob=1.0)
    out_image, out_posmap = augment_batch(image, posmap, mask, config,
                                          torch.Generator().manual_seed(0))
    assert torch.equal(out_image[0], image[0].flip(1))
    paired = (mask & mask.flip(1)).numpy()
    after = out_posmap[0].numpy()[paired]
    # Texel c of the mirrored map lies where the mirrored crop shows the feature of texel
    # R-1-c of the original: the pixels there read back that texel's original position.
    mirror_before = posmap[0].numpy()[:, ::-1][paired]
    read = _bilinear(out_image[0].numpy(), after[:, 0], after[:, 1])
    error = np.abs(read[:, :2] / 2 - mirror_before[:, :2])
    assert np.percentile(error, 99) < 0.6
    # The canonical face is nearly symmetric, so its mirror is nearly itself (mirrored about
    # its own centre line): this fails when the UV columns are not mirrored with x.
    centre = (posmap[0, ..., 0][mask].max() + posmap[0, ..., 0][mask].min()) / 2
    shift = float((SIZE - 1) - 2 * centre)
    difference = out_posmap[0].numpy()[paired] - posmap[0].numpy()[paired] - [shift, 0, 0]
    assert np.percentile(np.abs(difference), 99) < 0.5


def test_mirroring_twice_restores_the_samples():
    posmap, mask = _face_posmap()
    images = torch.from_numpy(np.random.default_rng(0).integers(0, 255, (3, SIZE, SIZE, 3),
                                                                dtype=np.uint8))
    posmaps = posmap.expand(3, -1, -1, -1) + torch.tensor([0.0, 1.0, 2.0])[:, None, None, None]
    chosen = torch.tensor([True, False, True])
    once = mirror_samples(images, posmaps, mask, chosen)
    twice = mirror_samples(*once, mask, chosen)
    assert torch.equal(twice[0], images) and not torch.equal(once[0], images)
    paired = mask & mask.flip(1)
    torch.testing.assert_close(twice[1][:, paired], posmaps[:, paired], rtol=0, atol=1e-4)
    assert torch.equal(once[1][1], posmaps[1])
    columns = mirror_columns(mask)
    assert bool(mask[torch.arange(SIZE)[:, None].expand(SIZE, SIZE)[mask], columns[mask]].all())


def test_z_scales_with_the_similarity_and_mask_stays():
    posmap, mask = _face_posmap()
    generator = torch.Generator().manual_seed(3)
    linear, _ = sample_affine(1, SIZE, GEOMETRY_ONLY, torch.Generator().manual_seed(3))
    _, out = augment_batch(_coordinate_image(), posmap, mask, GEOMETRY_ONLY, generator)
    scale = float(torch.sqrt(torch.det(linear))[0])
    np.testing.assert_allclose(out[0, ..., 2][mask], posmap[0, ..., 2][mask] * scale,
                               rtol=1e-5, atol=1e-4)
    assert torch.all(out[0][~mask] == 0)
    # A similarity keeps distance ratios: xy distances scale by the same s as z.
    points = out[0][mask][:, :2].double()
    original = posmap[0][mask][:, :2].double()
    ratio = (torch.linalg.norm(points[0] - points[-1])
             / torch.linalg.norm(original[0] - original[-1]))
    assert abs(float(ratio) - scale) < 1e-4


def test_stretch_changes_the_aspect_within_its_bounds_and_keeps_area():
    config = dataclasses.replace(IDENTITY, aspect_max=1.2)
    linear, _ = sample_affine(4000, SIZE, config, torch.Generator().manual_seed(0))
    assert torch.all(linear[:, 0, 1] == 0) and torch.all(linear[:, 1, 0] == 0)  # no rotation
    aspect = linear[:, 0, 0] / linear[:, 1, 1]  # width / height factor
    torch.testing.assert_close(torch.det(linear), torch.ones(4000, dtype=torch.float64))
    assert float(aspect.min()) >= 1 / 1.2 - 1e-9 and float(aspect.max()) <= 1.2 + 1e-9
    assert float(aspect.min()) < 1 / 1.18 and float(aspect.max()) > 1.18
    assert abs(float(torch.log(aspect).mean())) < 0.01  # log-uniform: wider as often as taller


def test_no_stretch_is_a_similarity_and_draws_nothing_extra():
    """aspect_max = 1 leaves the draws of runs made before the stretch existed unchanged:
    angle (B), scale (B), shift (B, 2), nothing else."""
    batch, generator = 8, torch.Generator().manual_seed(5)
    linear, _ = sample_affine(batch, SIZE, GEOMETRY_ONLY, generator)
    torch.testing.assert_close(linear[:, 0, 0], linear[:, 1, 1])
    torch.testing.assert_close(linear[:, 0, 1], -linear[:, 1, 0])
    reference = torch.Generator().manual_seed(5)
    for shape in (batch, batch, (batch, 2)):
        torch.rand(shape, generator=reference, dtype=torch.float64)
    assert torch.equal(torch.rand(3, generator=generator), torch.rand(3, generator=reference))
    stretched = sample_affine(batch, SIZE, dataclasses.replace(GEOMETRY_ONLY, aspect_max=1.2),
                              torch.Generator().manual_seed(5))[0]
    assert not torch.allclose(stretched[:, 0, 0], stretched[:, 1, 1])
    with pytest.raises(InvalidInputError, match="aspect_max"):
        AugmentConfig(aspect_max=0.9).check()


def test_identity_settings_change_nothing_and_inputs_are_kept():
    image = _coordinate_image()
    posmap, mask = _face_posmap()
    image_copy, posmap_copy = image.clone(), posmap.clone()
    out_image, out_posmap = augment_batch(image, posmap, mask, IDENTITY,
                                          torch.Generator().manual_seed(0))
    assert torch.equal(out_image, image)
    torch.testing.assert_close(out_posmap, posmap, rtol=0, atol=1e-4)
    assert torch.equal(image, image_copy) and torch.equal(posmap, posmap_copy)


def test_colour_gain_per_channel():
    config = AugmentConfig(rotation_deg=0, translation=0, scale_min=1, scale_max=1,
                           occlusion_prob=0)
    image = torch.full((8, SIZE, SIZE, 3), 100, dtype=torch.uint8)
    posmap, mask = _face_posmap()
    out, _ = augment_batch(image, posmap.expand(8, -1, -1, -1), mask, config,
                           torch.Generator().manual_seed(1))
    gains = out[:, SIZE // 2, SIZE // 2].double() / 100
    assert gains.min() >= 0.595 and gains.max() <= 1.405
    assert len(torch.unique(out[:, SIZE // 2, SIZE // 2])) > 8  # channels differ


def test_occlusion_paints_pixels_but_keeps_the_target_and_is_seeded():
    config = AugmentConfig(rotation_deg=0, translation=0, scale_min=1, scale_max=1,
                           color_min=1, color_max=1, occlusion_prob=1.0)
    image = _coordinate_image().expand(4, -1, -1, -1).contiguous()
    posmap, mask = _face_posmap()
    posmaps = posmap.expand(4, -1, -1, -1)
    first = augment_batch(image, posmaps, mask, config, torch.Generator().manual_seed(5))
    again = augment_batch(image, posmaps, mask, config, torch.Generator().manual_seed(5))
    assert torch.equal(first[0], again[0]) and torch.equal(first[1], again[1])
    changed = (first[0] != image).any(dim=-1).float().mean(dim=(1, 2))
    assert torch.all(changed > 0.003) and torch.all(changed < 0.9)
    torch.testing.assert_close(first[1], posmaps, rtol=0, atol=1e-4)


def test_lowres_blurs_chosen_crops_keeps_the_target_and_is_seeded():
    rng = np.random.default_rng(3)
    image = torch.from_numpy(rng.integers(0, 255, (6, SIZE, SIZE, 3), dtype=np.uint8))
    posmap, mask = _face_posmap()
    posmaps = posmap.expand(6, -1, -1, -1)
    config = dataclasses.replace(IDENTITY, lowres_prob=0.5, lowres_min_scale=0.4)
    first = augment_batch(image, posmaps, mask, config, torch.Generator().manual_seed(2))
    again = augment_batch(image, posmaps, mask, config, torch.Generator().manual_seed(2))
    assert torch.equal(first[0], again[0])
    torch.testing.assert_close(first[1], posmaps, rtol=0, atol=1e-4)

    def roughness(images):  # mean absolute difference of horizontal neighbours, per crop
        return (images[:, :, 1:].float() - images[:, :, :-1].float()).abs().mean(dim=(1, 2, 3))

    ratio = roughness(first[0]) / roughness(image)
    blurred, kept = ratio < 0.8, ratio == 1.0
    # Noise loses most of its pixel-to-pixel variation when shrunk and enlarged back; the
    # crops not chosen are untouched, and the mean level stays (area average, bilinear).
    assert blurred.any() and kept.any() and bool((blurred | kept).all())
    means = first[0].float().mean(dim=(1, 2, 3)) - image.float().mean(dim=(1, 2, 3))
    assert means.abs().max() < 1.0


def test_lowres_settings_are_checked():
    with pytest.raises(InvalidInputError, match="lowres"):
        AugmentConfig(lowres_prob=1.5).check()
    with pytest.raises(InvalidInputError, match="lowres"):
        AugmentConfig(lowres_min_scale=0.0).check()


def _photo_on_black(batch: int = 4) -> torch.Tensor:
    """(B, S, S, 3) uint8: a textured 'photo' in the middle half, JPEG-like black (0..3)
    around it, and a 3 x 3 black 'pupil' inside the photo."""
    rng = np.random.default_rng(0)
    images = rng.integers(0, 4, (batch, SIZE, SIZE, 3)).astype(np.uint8)
    quarter = SIZE // 4
    images[:, quarter:-quarter, quarter:-quarter] = rng.integers(
        40, 220, (batch, SIZE // 2, SIZE // 2, 3))
    images[:, SIZE // 2:SIZE // 2 + 3, SIZE // 2:SIZE // 2 + 3] = 0
    return torch.from_numpy(images)


def test_black_regions_are_wide_near_black_areas_only():
    floats = _photo_on_black(1).permute(0, 3, 1, 2).float()
    regions = black_regions(floats)[0, 0].numpy()
    quarter = SIZE // 4
    assert regions[:quarter - 1].all() and regions[:, -quarter + 1:].all()
    assert not regions[quarter + 1:-quarter - 1, quarter + 1:-quarter - 1].any()  # pupil kept


def test_background_fills_the_black_margin_and_keeps_photo_and_target():
    config = AugmentConfig(rotation_deg=0, translation=0, scale_min=1, scale_max=1,
                           color_min=1, color_max=1, occlusion_prob=0, background_prob=1.0)
    images = _photo_on_black()
    posmap, mask = _face_posmap()
    posmaps = posmap.expand(4, -1, -1, -1)
    out, out_posmaps = augment_batch(images, posmaps, mask, config,
                                     torch.Generator().manual_seed(2))
    quarter = SIZE // 4
    margin = out[:, : quarter - 2].float()
    assert (margin.amax(dim=-1) > BLACK_LEVEL).float().mean() > 0.9  # no longer black
    inner = slice(quarter + 1, -quarter - 1)
    assert torch.equal(out[:, inner, inner], images[:, inner, inner])
    torch.testing.assert_close(out_posmaps, posmaps, rtol=0, atol=1e-4)
    kept = augment_batch(images, posmaps, mask, IDENTITY, torch.Generator().manual_seed(2))[0]
    assert torch.equal(kept, images)  # background_prob 0: black stays black


def test_background_prob_is_checked():
    with pytest.raises(Exception, match="background_prob"):
        AugmentConfig(background_prob=1.5).check()


def test_fill_black_regions_is_the_background_step_on_uint8_crops():
    images = _photo_on_black()
    first = fill_black_regions(images, 1.0, torch.Generator().manual_seed(4))
    again = fill_black_regions(images, 1.0, torch.Generator().manual_seed(4))
    assert first.dtype == torch.uint8 and first.shape == images.shape
    assert torch.equal(first, again)
    quarter = SIZE // 4
    assert (first[:, : quarter - 2].amax(dim=-1) > BLACK_LEVEL).float().mean() > 0.9
    inner = slice(quarter + 1, -quarter - 1)
    assert torch.equal(first[:, inner, inner], images[:, inner, inner])
    assert torch.equal(fill_black_regions(images, 0.0, torch.Generator().manual_seed(4)), images)


def test_frame_blacks_out_around_the_face_within_its_offsets_and_keeps_the_target():
    """frame_prob 1, nothing else: each crop keeps one rectangle whose edges lie within
    FRAME_OFFSETS of the face's extent; the inside is untouched; seeded; prob 0 draws nothing."""
    image = _coordinate_image().expand(16, -1, -1, -1).contiguous()
    image[..., 2] = 200  # no pixel is black to begin with
    posmap, mask = _face_posmap()
    posmaps = posmap.expand(16, -1, -1, -1)
    config = dataclasses.replace(IDENTITY, frame_prob=1.0)
    out, out_posmaps = augment_batch(image, posmaps, mask, config, torch.Generator().manual_seed(3))
    again = augment_batch(image, posmaps, mask, config, torch.Generator().manual_seed(3))[0]
    assert torch.equal(out, again)
    torch.testing.assert_close(out_posmaps, posmaps, rtol=0, atol=1e-4)
    points = posmap[0][mask][:, :2]
    lowest, highest = points.amin(0), points.amax(0)
    extent = highest - lowest
    kept = out.amax(dim=-1) > 0  # (B, S, S)
    for crop in range(16):
        rows = torch.nonzero(kept[crop].any(dim=1)).flatten()
        cols = torch.nonzero(kept[crop].any(dim=0)).flatten()
        box = kept[crop][rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
        assert box.all() and int(kept[crop].sum()) == box.numel()  # one rectangle
        assert torch.equal(out[crop][kept[crop]], image[crop][kept[crop]])  # inside untouched
        edges = [(cols[0] - lowest[0]) / extent[0], (rows[0] - lowest[1]) / extent[1],
                 (highest[0] - cols[-1]) / extent[0], (highest[1] - rows[-1]) / extent[1]]
        borders = [cols[0] == 0, rows[0] == 0, cols[-1] == SIZE - 1, rows[-1] == SIZE - 1]
        pixel = 1.5 / float(extent.min())
        for edge, (low, high), at_border in zip(edges, FRAME_OFFSETS, borders, strict=True):
            # Within its range (+-1 px of rounding to pixels), or clipped at the crop's border.
            assert low - pixel <= float(edge) <= high + pixel or (bool(at_border)
                                                                   and float(edge) > low)
    cut_chin = (highest[1] - torch.tensor([int(torch.nonzero(kept[c].any(dim=1))[-1])
                                           for c in range(16)])) > 0
    assert cut_chin.any() and not cut_chin.all()  # some frames cut into the face, some not
    plain = augment_batch(image, posmaps, mask, IDENTITY, torch.Generator().manual_seed(3))[0]
    assert torch.equal(plain, image)
    with pytest.raises(InvalidInputError, match="frame_prob"):
        AugmentConfig(frame_prob=1.2).check()


def test_replicate_photo_continues_each_column_then_each_row():
    images = _photo_on_black(1)
    floats = images.permute(0, 3, 1, 2).float()
    regions = black_regions(floats)
    photo = images[0].float()
    quarter, middle = SIZE // 4, SIZE // 2
    for edge in (0, 2):  # continued from the photo's outermost pixels, or from 2 inside
        out = replicate_photo(floats, regions, edge)[0].permute(1, 2, 0)
        top, bottom, left = quarter + edge, -quarter - 1 - edge, quarter + edge
        assert torch.equal(out[0, middle], photo[top, middle])  # above: a top row
        assert torch.equal(out[-1, middle], photo[bottom, middle])  # below: a bottom row
        assert torch.equal(out[middle, 0], photo[middle, left])  # left: a first column
        assert torch.equal(out[0, 0], photo[top, left])  # corner: the corner
        inner = slice(quarter + 1 + edge, -quarter - 1 - edge)
        assert torch.equal(out[inner, inner], photo[inner, inner])  # photo and pupil kept
    assert torch.equal(replicate_photo(floats, torch.zeros_like(regions), 0), floats)


def test_background_replicate_continues_the_photo_in_chosen_crops_only():
    images = _photo_on_black(8)
    posmap, mask = _face_posmap()
    posmaps = posmap.expand(8, -1, -1, -1)
    config = dataclasses.replace(IDENTITY, background_prob=1.0, background_replicate=0.5)
    out = augment_batch(images, posmaps, mask, config, torch.Generator().manual_seed(1))[0]
    quarter, middle = SIZE // 4, SIZE // 2
    continued = (out[:, :quarter - 2, middle] == images[:, quarter + 2, middle][:, None]).all(-1)
    share = continued.all(dim=1)
    assert share.any() and not share.all()  # some crops continue the photo, the rest do not
    plain = dataclasses.replace(IDENTITY, background_prob=1.0)
    first = augment_batch(images, posmaps, mask, plain, torch.Generator().manual_seed(1))[0]
    assert not (first[:, :quarter - 2, middle] == images[:, quarter + 2, middle][:, None]).all(
        -1).all(dim=1).any()
    with pytest.raises(InvalidInputError, match="background_replicate"):
        AugmentConfig(background_replicate=-0.1).check()
