import cv2
import numpy as np
import pytest

from facerecon.apps.blend import blend_into, match_colors
from facerecon.apps.edit import edit_region, edit_regions
from facerecon.apps.swap import region_uv_mask, swap_face, swap_faces
from facerecon.errors import InvalidInputError
from facerecon.render import rasterize, render_colors


@pytest.fixture(scope="module")
def pair(make_scene, skin_pattern):
    """A frontal source and a turned target with different identities and skin patterns."""
    target_colors = np.clip(0.35 + 0.4 * skin_pattern(phase=2.0)[:, ::-1], 0, 1)
    source = make_scene(seed=11, yaw=0, pitch=5)
    target = make_scene(seed=12, yaw=30, pitch=-5, roll=6, colors=target_colors)
    return source, target


def lab(pixels):
    return cv2.cvtColor(pixels.reshape(-1, 1, 3).astype(np.float32) / 255,
                        cv2.COLOR_RGB2Lab).reshape(-1, 3)


def test_swap_paints_the_source_texture_on_the_target(pair, topology):
    source, target = pair
    result = swap_face(source.image, source.posmap, target.image, target.posmap, topology,
                       color_match="none", blend="paste")
    assert result.image.shape == target.image.shape and result.image.dtype == np.uint8
    assert result.mask.sum() > 10000
    np.testing.assert_array_equal(result.image[~result.mask], target.image[~result.mask])
    # Ground truth: the target's geometry painted with the source's per-vertex pattern.
    expected, _ = render_colors(target.vertices, topology.region_triangles, source.colors,
                                target.background)
    error = np.abs(result.image.astype(int) - expected.astype(int))[result.mask]
    # Measured: mean abs error 0.26 of 255 (resampling; mirror-filled texels the source hid).
    assert error.mean() < 1.0
    mean_error = np.abs(result.image[result.mask].mean(axis=0)
                        - expected[result.mask].mean(axis=0))
    assert np.all(mean_error < 1.0)


def test_default_swap_matches_target_colours_keeps_source_pattern(pair, topology):
    source, target = pair
    result = swap_face(source.image, source.posmap, target.image, target.posmap, topology)
    mask = result.mask
    np.testing.assert_array_equal(result.image[~mask], target.image[~mask])
    expected, _ = render_colors(target.vertices, topology.region_triangles, source.colors,
                                target.background)
    # Lab mean of the face: the target's (colour matching), not the source pattern's.
    swapped_lab = lab(result.image[mask]).mean(axis=0)
    target_lab = lab(target.image[mask]).mean(axis=0)
    source_lab = lab(expected[mask]).mean(axis=0)
    # Measured: within 3.3 (L; Poisson pulls towards the border colours), 2.0 and 2.4 (a, b).
    assert np.abs(swapped_lab - target_lab).max() < 6.0
    assert np.abs(source_lab - target_lab).max() > 10.0
    # Structure: the source's pattern (Poisson keeps its gradients), not the target's.
    inner = cv2.erode(mask.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
    swapped = result.image[inner].astype(float)
    with_source = np.mean([np.corrcoef(swapped[:, k], expected[inner][:, k])[0, 1]
                           for k in range(3)])
    with_target = np.mean([np.corrcoef(swapped[:, k], target.image[inner][:, k])[0, 1]
                           for k in range(3)])
    # Measured: 0.84 with the source pattern, 0.02 with the target's.
    assert with_source > 0.6 and with_source > with_target + 0.3


def test_match_colors_moves_lab_statistics(rng):
    pixels = rng.integers(40, 120, size=(500, 3)).astype(np.uint8)
    reference = rng.integers(120, 220, size=(800, 3)).astype(np.uint8)
    matched = match_colors(pixels, reference)
    np.testing.assert_allclose(lab(matched).mean(axis=0), lab(reference).mean(axis=0), atol=1.0)
    np.testing.assert_array_equal(match_colors(pixels, reference, "none"), pixels)
    with pytest.raises(InvalidInputError, match="color_match"):
        match_colors(pixels, reference, "hist")


def test_blend_leaves_outside_exact_and_handles_border(rng):
    target = rng.integers(0, 256, size=(60, 80, 3), dtype=np.uint8)
    rendered = np.full_like(target, 200)
    mask = np.zeros((60, 80), bool)
    mask[0:30, 50:80] = True  # touches the image border
    result = blend_into(target, rendered, mask)
    np.testing.assert_array_equal(result.image[~mask], target[~mask])
    assert result.image[mask].std() < target[mask].std()  # smooth inside
    empty = blend_into(target, rendered, np.zeros_like(mask))
    np.testing.assert_array_equal(empty.image, target)


def test_every_target_face_is_swapped(make_scene, skin_pattern, topology):
    source = make_scene(seed=21, yaw=-10)
    left = make_scene(seed=22, yaw=20, height=0.4, centre=(80.0, 144.0))
    right_colors = np.clip(1.0 - skin_pattern(), 0, 1)
    right = make_scene(seed=23, yaw=-20, height=0.4, centre=(210.0, 144.0),
                       background=left.image, colors=right_colors)
    both = right.image  # both faces in one photo
    result = swap_faces(source.image, source.posmap, both, [left.posmap, right.posmap],
                        topology, blend="paste", color_match="none")
    left_only = swap_face(source.image, source.posmap, both, left.posmap, topology,
                          blend="paste", color_match="none")
    assert left_only.mask.sum() > 2000
    assert (result.mask & ~left_only.mask).sum() > 2000  # the right face too
    np.testing.assert_array_equal(result.image[~result.mask], both[~result.mask])
    np.testing.assert_array_equal(result.image[left_only.mask],
                                  left_only.image[left_only.mask])


def test_swap_errors(pair, topology):
    source, target = pair
    far_away = source.posmap + np.array([5000.0, 0, 0], np.float32)
    with pytest.raises(InvalidInputError, match="source face"):
        swap_face(source.image, far_away, target.image, target.posmap, topology)
    with pytest.raises(InvalidInputError, match="no face"):
        swap_faces(source.image, source.posmap, target.image, [], topology)
    with pytest.raises(InvalidInputError, match="region"):
        swap_face(source.image, source.posmap, target.image, target.posmap, topology,
                  region="ears")
    with pytest.raises(InvalidInputError, match="blend"):
        swap_face(source.image, source.posmap, target.image, target.posmap, topology,
                  blend="alpha")
    with pytest.raises(InvalidInputError, match="source_image"):
        swap_face(source.image[..., 0], source.posmap, target.image, target.posmap, topology)
    with pytest.raises(InvalidInputError, match="target_posmap"):
        swap_face(source.image, source.posmap, target.image, target.posmap[:, :100], topology)


def rendered_region(scene, topology, region_uv):
    raster = rasterize(scene.posmap[topology.uv_mask], topology.triangles,
                       *scene.image.shape[:2])
    in_region = region_uv[topology.uv_mask][topology.triangles].all(axis=1)
    return raster.mask & in_region[np.maximum(raster.triangle_index, 0)]


@pytest.mark.parametrize("region", ["eyes", "mouth", "nose"])
def test_edit_changes_only_the_region(pair, topology, region):
    source, target = pair
    margin = 3
    result = edit_region(target.image, target.posmap, topology, region,
                         (source.image, source.posmap), margin=margin)
    changed = np.any(result.image != target.image, axis=2)
    assert changed.sum() > 50
    assert not changed[~result.mask].any()
    # Allowed: the region grown by the margin in UV (independently of the code under test),
    # then rendered at the target's pose.
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * margin + 1,) * 2)
    grown = cv2.dilate(region_uv_mask(region, topology).astype(np.uint8), kernel).astype(bool)
    allowed = rendered_region(target, topology, grown & topology.uv_mask)
    assert not (changed & ~allowed).any()
    inner = rendered_region(target, topology, region_uv_mask(region, topology))
    assert changed[inner].mean() > 0.5


def test_edit_from_a_texture_image(pair, topology):
    _, target = pair
    texture = np.zeros((128, 128, 3), np.uint8)
    texture[...] = (250, 20, 200)
    result = edit_region(target.image, target.posmap, topology, "mouth", texture,
                         color_match="none", blend="paste", margin=0)
    inner = rendered_region(target, topology, topology.region_masks["mouth"])
    # Bilinear lookups on the region's rim read texels just outside it.
    inner = cv2.erode(inner.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    assert inner.sum() > 100
    assert np.all(result.image[inner] == (250, 20, 200))
    np.testing.assert_array_equal(result.image[~result.mask], target.image[~result.mask])
    every = edit_regions(target.image, [target.posmap], topology, "mouth", texture,
                         color_match="none", blend="paste", margin=0)
    np.testing.assert_array_equal(every.image, result.image)
    with pytest.raises(InvalidInputError, match="square"):
        edit_region(target.image, target.posmap, topology, "mouth", texture[:64])
    with pytest.raises(InvalidInputError, match="region mask"):
        edit_region(target.image, target.posmap, topology, np.zeros((256, 256), bool), texture)
