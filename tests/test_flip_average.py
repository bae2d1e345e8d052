"""FlipAveragedPredictor: the mirror's map is mapped back exactly and the result is
mirror-equivariant, with a fake head and with the shipped network."""

import hashlib

import numpy as np
import pytest

from facerecon.api import FaceReconstructor
from facerecon.data.synthetic import render_synthetic_face
from facerecon.errors import InvalidInputError
from facerecon.models import shipped_weights
from facerecon.predictor import FlipAveragedPredictor, NetworkPredictor
from facerecon.topology import load_topology

SIZE, RESOLUTION = 128, 128


def mirror_map(posmap: np.ndarray) -> np.ndarray:
    """The position map of the mirrored crop: UV columns and crop x mirrored."""
    mirrored = posmap[..., ::-1, :].copy()
    mirrored[..., 0] = SIZE - 1 - mirrored[..., 0]
    return mirrored


class MarkerHead:
    """Returns ``direct`` for a crop whose top-left pixel is 255, else ``other``."""

    name, input_size, resolution, crop_supersample = "marker", SIZE, RESOLUTION, 1

    def __init__(self, direct: np.ndarray, other: np.ndarray):
        self.direct, self.other = direct, other

    def __call__(self, crops, transforms):
        assert len(transforms) == len(crops)
        return np.stack([self.direct if crop[0, 0, 0] == 255 else self.other for crop in crops])


@pytest.fixture(scope="module")
def canonical():
    topology = load_topology(RESOLUTION)
    return topology.canonical_posmap.astype(np.float32), topology.uv_mask


def _marked_crops(count: int) -> np.ndarray:
    crops = np.random.default_rng(0).integers(0, 200, (count, SIZE, SIZE, 3), dtype=np.uint8)
    crops[:, 0, 0] = 255
    crops[:, 0, -1] = 0
    return crops


def test_an_equivariant_head_is_returned_unchanged(canonical):
    posmap, mask = canonical
    posmap = posmap + np.array([7.0, -3.0, 2.0], np.float32)  # off the crop's centre
    head = FlipAveragedPredictor(MarkerHead(posmap, mirror_map(posmap)))
    out = head(_marked_crops(2), [None, None])
    assert out.shape == (2, RESOLUTION, RESOLUTION, 3) and head.name == "marker+flip"
    np.testing.assert_allclose(out[:, mask], np.broadcast_to(posmap[mask], out[:, mask].shape),
                               atol=0.35)  # the canonical face's own asymmetry


def test_an_unmoved_map_is_averaged_with_its_mirror(canonical):
    posmap, mask = canonical
    shifted = posmap + np.array([10.0, 0.0, 0.0], np.float32)
    out = FlipAveragedPredictor(MarkerHead(shifted, shifted))(_marked_crops(1), [None])[0]
    paired = mask & mask[:, ::-1]
    expected = 0.5 * (shifted + mirror_map(shifted))
    np.testing.assert_allclose(out[paired], expected[paired], atol=1e-4)
    # A head that ignores the mirroring and answers 10 px to the right both times: the
    # shift cancels (the mirror's map goes 10 px left), y and z are kept.
    unshifted = 0.5 * (posmap + mirror_map(posmap))
    np.testing.assert_allclose(out[paired], unshifted[paired], atol=1e-4)
    np.testing.assert_array_equal(out[mask & ~paired], shifted[mask & ~paired])


def test_the_shipped_network_becomes_mirror_equivariant(canonical):
    _, mask = canonical
    paired = mask & mask[:, ::-1]
    scene = render_synthetic_face(load_topology(RESOLUTION), yaw=25, pitch=-5, roll=6)
    from facerecon.crop import crop_from_box

    crop = crop_from_box(scene.box, SIZE, 1.7, -0.12).warp(scene.image)
    head = FlipAveragedPredictor(NetworkPredictor("mobile_posmap128"))
    both = head(np.stack([crop, crop[:, ::-1]]), [None, None])
    np.testing.assert_allclose(both[1][paired], mirror_map(both[0])[paired], atol=1e-3)
    plain = NetworkPredictor("mobile_posmap128")(crop[None], [None])[0]
    assert np.abs(both[0][paired] - plain[paired]).mean() < 3.0  # an average, not a new face


def test_the_reconstructor_wraps_only_named_models(make_oracle):
    rec = FaceReconstructor(detector=None, flip_average=True)
    assert rec.predictor.name == "mobile_posmap128+flip"
    topology = load_topology(RESOLUTION)
    with pytest.raises(InvalidInputError, match="flip_average"):
        FaceReconstructor(model=make_oracle(topology, []), detector=None, flip_average=True)


def test_large_batches_go_through_the_head_in_two_calls(canonical):
    posmap, _ = canonical
    calls = []

    class CountingHead(MarkerHead):
        def __call__(self, crops, transforms):
            calls.append(len(crops))
            return super().__call__(crops, transforms)

    head = FlipAveragedPredictor(CountingHead(posmap, mirror_map(posmap)))
    small, large = head(_marked_crops(2), [None] * 2), head(_marked_crops(9), [None] * 9)
    assert calls == [4, 9, 9]
    np.testing.assert_allclose(large[0], small[0], atol=1e-6)


def test_the_reconstructor_smooths_what_the_predictor_returns_once(make_oracle):
    from facerecon.models import get_config
    from facerecon.posmap import smooth

    topology = load_topology(RESOLUTION)
    scene = render_synthetic_face(topology, yaw=-15, pitch=5, roll=0)
    default = get_config("mobile_posmap128").surface_sigma
    assert default > 0
    smoothed = FaceReconstructor(detector=None)(scene.image, boxes=scene.box[None])[0]
    raw = FaceReconstructor(detector=None, surface_sigma=0)(scene.image, boxes=scene.box[None])[0]
    assert np.abs(smoothed.posmap - raw.posmap)[topology.uv_mask].max() > 0.1
    # smoothing commutes with the crop-to-image similarity: smooth the raw image-space map
    np.testing.assert_allclose(smoothed.posmap, smooth(raw.posmap, topology, default), atol=1e-3)
    flipped = FaceReconstructor(detector=None, flip_average=True)
    assert flipped.surface_sigma == default and flipped.predictor.name.endswith("+flip")
    flipped_raw = FaceReconstructor(detector=None, flip_average=True, surface_sigma=0)
    once = flipped(scene.image, boxes=scene.box[None])[0].posmap
    unsmoothed = flipped_raw(scene.image, boxes=scene.box[None])[0].posmap
    np.testing.assert_allclose(once, smooth(unsmoothed, topology, default), atol=1e-3)
    # a predictor object brings its own default: a network its config's, an oracle none
    network = FaceReconstructor(model=NetworkPredictor("mobile_posmap128"), detector=None)
    assert network.surface_sigma == default
    # reports name the weights that made the maps, with or without the mirror average
    shipped = shipped_weights("mobile_posmap128")
    digest = hashlib.sha256(shipped.read_bytes()).hexdigest()
    for reconstructor in (network, flipped):
        assert reconstructor.settings["weights_file"] == shipped.name
        assert reconstructor.settings["weights_sha256"] == digest
    # a predictor object is not smoothed unless asked
    assert FaceReconstructor(model=make_oracle(topology, []), detector=None).surface_sigma == 0
    oracle = FaceReconstructor(model=make_oracle(topology, []), detector=None, surface_sigma=2)
    assert oracle.surface_sigma == 2.0
    for bad in (-1.0, float("nan")):
        with pytest.raises(InvalidInputError, match="surface_sigma"):
            FaceReconstructor(detector=None, surface_sigma=bad)
