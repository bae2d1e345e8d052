"""TexelNet: a network's map at chosen texels only equals the whole map read there."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from facerecon.errors import InvalidInputError
from facerecon.models import (
    TexelNet,
    create_model,
    freeze_for_cpu,
    get_config,
    predict_posmaps,
    predict_texels,
    prepare_for_inference,
    supports_texels,
)
from facerecon.models.resfcn import ResFCN256
from facerecon.posmap import decode_landmarks
from facerecon.topology import load_topology

NAME = "mobile_posmap64"  # the same architecture as the default network, four times cheaper


@pytest.fixture(scope="module")
def network():
    torch.manual_seed(0)
    model = create_model(NAME)
    for module in model.modules():  # batch norm that is not the identity, so folding matters
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-0.2, 0.2)
            module.running_var.uniform_(0.5, 2.0)
    with torch.no_grad():
        model.head.bias.uniform_(-1, 1)
    return prepare_for_inference(model)


def _crops(count: int) -> np.ndarray:
    return np.random.default_rng(1).integers(0, 256, (count, 64, 64, 3), dtype=np.uint8)


def test_weighted_texel_sums_equal_the_whole_map(network):
    """Every parity of row and column, the interior's edges, sums of several texels, a batch."""
    config = get_config(NAME)
    rng = np.random.default_rng(2)
    corners = [1 * 64 + 1, 1 * 64 + 62, 62 * 64 + 1, 62 * 64 + 62, 2 * 64 + 2, 33 * 64 + 30]
    texels = np.concatenate([corners, 64 * rng.integers(1, 63, 18) + rng.integers(1, 63, 18)])
    texels = texels.reshape(8, 3)
    weights = rng.uniform(-1, 1, texels.shape)
    crops = _crops(3)
    maps = predict_posmaps(network, config, crops).reshape(3, 64 * 64, 3).astype(np.float64)
    expected = np.einsum("bnlc,nl->bnc", maps[:, texels], weights)
    texel_net = TexelNet(network, texels, weights, 64)
    for model in (texel_net, freeze_for_cpu(texel_net, 64)):
        got = predict_texels(model, config, crops, len(texels))
        assert got.shape == (3, 8, 3) and got.dtype == np.float32
        assert np.abs(got - expected).max() < 1e-3  # pixels: float rounding only
    assert predict_texels(texel_net, config, crops[:0], len(texels)).shape == (0, 8, 3)


def test_the_landmarks_alone_equal_those_read_from_the_map(network):
    topology = load_topology(64)
    config = get_config(NAME)
    crops = _crops(2)
    expected = decode_landmarks(predict_posmaps(network, config, crops), topology)
    texel_net = TexelNet(network, topology.landmark_sample_index,
                         topology.landmark_sample_weight, 64)
    got = predict_texels(texel_net, config, crops, 68)
    assert np.abs(got - expected).max() < 1e-3


def test_networks_and_texels_it_cannot_take(network):
    assert supports_texels(network) and not supports_texels(ResFCN256())
    with pytest.raises(InvalidInputError, match="transposed conv"):
        TexelNet(ResFCN256(), np.array([[65]]), np.ones((1, 1)), 256)
    for outside in (0, 63, 64 * 63 + 5, 64 * 64):  # outermost rows and columns, off the map
        with pytest.raises(InvalidInputError, match="outermost"):
            TexelNet(network, np.array([[outside]]), np.ones((1, 1)), 64)
    with pytest.raises(InvalidInputError, match="alike"):
        TexelNet(network, np.array([[65, 66]]), np.ones((1, 1)), 64)


def test_the_predictor_reads_its_landmarks_without_the_map():
    """NetworkPredictor.predict_landmarks (the lean first pass) against the map decoded."""
    from facerecon.predictor import NetworkPredictor

    predictor = NetworkPredictor("mobile_posmap128")
    crops = np.random.default_rng(3).integers(0, 256, (2, 128, 128, 3), dtype=np.uint8)
    expected = decode_landmarks(predictor(crops, [None, None]), load_topology(128))
    got = predictor.predict_landmarks(crops, [None, None])
    assert got.shape == (2, 68, 3) and got.dtype == np.float32
    assert np.abs(got - expected).max() < 1e-3
    assert predictor.predict_landmarks(crops[:0], []).shape == (0, 68, 3)
