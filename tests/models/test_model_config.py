"""ModelConfig: validation and the preprocessing round trip."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from facerecon.errors import InvalidInputError
from facerecon.models import ModelConfig, get_config, list_models


@pytest.mark.parametrize("name", list_models())
def test_normalize_denormalize_round_trip(name):
    config = get_config(name)
    size = config.input_size
    rng = np.random.default_rng(0)
    crops = rng.integers(0, 256, size=(2, size, size, 3), dtype=np.uint8)
    original = crops.copy()
    inputs = config.normalize(crops)
    assert inputs.shape == (2, 3, size, size) and inputs.dtype == torch.float32
    np.testing.assert_array_equal(crops, original)  # input not mutated
    np.testing.assert_array_equal(config.denormalize(inputs), crops)


def test_normalize_known_values():
    config = ModelConfig("t", 32, 32, mean=(0.5, 0.0, 0.0), std=(0.5, 1.0, 2.0))
    crops = np.zeros((1, 32, 32, 3), dtype=np.uint8)
    crops[..., 0], crops[..., 1], crops[..., 2] = 255, 51, 255
    inputs = config.normalize(crops)
    torch.testing.assert_close(inputs[0, :, 0, 0], torch.tensor([1.0, 0.2, 0.5]))


def test_normalize_in_channels_last_memory_gives_the_same_values():
    config = get_config("mobile_posmap128")
    crops = np.random.default_rng(0).integers(0, 256, (2, 128, 128, 3), dtype=np.uint8)
    first = config.normalize(crops)
    last = config.normalize(crops, channels_last=True)
    assert first.is_contiguous() and last.is_contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(first, last, rtol=0, atol=0)
    mean = torch.tensor(config.mean).view(1, 3, 1, 1)
    std = torch.tensor(config.std).view(1, 3, 1, 1)
    reference = (torch.as_tensor(crops).permute(0, 3, 1, 2) / 255.0 - mean) / std
    torch.testing.assert_close(first, reference, rtol=1e-6, atol=1e-6)


def test_prn_takes_plain_unit_range_rgb():
    config = get_config("prn_resfcn256")
    assert config.mean == (0.0, 0.0, 0.0) and config.std == (1.0, 1.0, 1.0)


def test_normalize_rejects_bad_crops():
    config = ModelConfig("t", 32, 32)
    with pytest.raises(InvalidInputError, match="uint8"):
        config.normalize(np.zeros((1, 32, 32, 3), dtype=np.float32))
    with pytest.raises(InvalidInputError, match=r"crops \(B, 32, 32, 3\)"):
        config.normalize(np.zeros((1, 16, 16, 3), dtype=np.uint8))
    with pytest.raises(InvalidInputError, match=r"crops \(B, 32, 32, 3\)"):
        config.normalize(np.zeros((32, 32, 3), dtype=np.uint8))


def test_config_is_frozen_and_validated():
    config = ModelConfig("t", 32, 32)
    with pytest.raises(AttributeError):
        config.input_size = 64
    with pytest.raises(InvalidInputError):
        ModelConfig("t", 0, 32)
    with pytest.raises(InvalidInputError):
        ModelConfig("t", 32, 32, std=(1.0, 0.0, 1.0))
    with pytest.raises(InvalidInputError):
        ModelConfig("t", 32, 32, output_scale=0.0)
