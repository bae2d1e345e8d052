"""predict_posmaps: uint8 crops in, float32 (B, R, R, 3) crop-pixel maps out."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from facerecon.errors import InvalidInputError
from facerecon.models import create_model, get_config, predict_posmaps, prepare_for_inference

NAME = "mobile_posmap128"


@pytest.fixture(scope="module")
def model_and_config():
    torch.manual_seed(0)
    return prepare_for_inference(create_model(NAME)), get_config(NAME)


def _crops(count: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, size=(count, 128, 128, 3), dtype=np.uint8)


def test_shape_dtype_range_and_input_untouched(model_and_config):
    model, config = model_and_config
    crops = _crops(3)
    original = crops.copy()
    posmaps = predict_posmaps(model, config, crops)
    assert posmaps.shape == (3, 128, 128, 3) and posmaps.dtype == np.float32
    assert np.isfinite(posmaps).all()
    assert posmaps.min() >= 0 and posmaps.max() <= config.output_scale
    np.testing.assert_array_equal(crops, original)


def test_batching_does_not_change_results(model_and_config):
    model, config = model_and_config
    crops = _crops(3)
    together = predict_posmaps(model, config, crops, batch_size=16)
    one_by_one = predict_posmaps(model, config, crops, batch_size=1)
    np.testing.assert_allclose(together, one_by_one, atol=1e-3)
    # Each map depends on its own crop only.
    np.testing.assert_allclose(predict_posmaps(model, config, crops[1:2]), together[1:2], atol=1e-3)


def test_matches_the_module_called_directly(model_and_config):
    model, config = model_and_config
    crops = _crops(1)
    with torch.inference_mode():
        direct = model(config.normalize(crops)).permute(0, 2, 3, 1).numpy()
    np.testing.assert_allclose(predict_posmaps(model, config, crops), direct, atol=1e-3)


def test_bf16_stays_close(model_and_config):
    model, config = model_and_config
    crops = _crops(1)
    exact = predict_posmaps(model, config, crops)
    rounded = predict_posmaps(model, config, crops, bf16=True)
    assert rounded.dtype == np.float32
    assert np.abs(rounded - exact).mean() < 0.02 * config.output_scale


def test_empty_batch_and_bad_input(model_and_config):
    model, config = model_and_config
    empty = predict_posmaps(model, config, np.zeros((0, 128, 128, 3), dtype=np.uint8))
    assert empty.shape == (0, 128, 128, 3)
    with pytest.raises(InvalidInputError):
        predict_posmaps(model, config, np.zeros((0, 64, 64, 3), dtype=np.uint8))
    with pytest.raises(InvalidInputError):
        predict_posmaps(model, config, _crops(1).astype(np.float32))
    with pytest.raises(InvalidInputError):
        predict_posmaps(model, config, _crops(1), batch_size=0)
