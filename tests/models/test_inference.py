"""Batch-norm folding: same outputs, no batch norm left, source model untouched; the frozen
CPU trace gives the prepared model's outputs at any batch size."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from facerecon.models import (
    create_model,
    fold_batchnorm,
    freeze_for_cpu,
    get_config,
    predict_posmaps,
    prepare_for_inference,
)
from facerecon.models.resfcn import ResFCN256


def _randomise_batchnorm(model: nn.Module) -> None:
    torch.manual_seed(1)
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.running_mean.uniform_(-0.2, 0.2)
            module.running_var.uniform_(0.5, 2.0)
            module.weight.data.uniform_(0.5, 1.5)
            module.bias.data.uniform_(-0.2, 0.2)


def test_fold_small_sequential_exactly():
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
        nn.ConvTranspose2d(4, 5, 4, 2, padding=1, bias=False), nn.BatchNorm2d(5),
    )
    _randomise_batchnorm(model)
    model.eval()
    folded = fold_batchnorm(model)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in folded.modules())
    assert any(isinstance(m, nn.BatchNorm2d) for m in model.modules())  # source untouched
    inputs = torch.randn(2, 3, 8, 8)
    with torch.no_grad():
        torch.testing.assert_close(folded(inputs), model(inputs), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", ["mobile_posmap128"])
def test_prepared_model_matches_registered_model(name):
    model = create_model(name)
    _randomise_batchnorm(model)
    prepared = prepare_for_inference(model, channels_last=True)
    inputs = torch.rand(1, 3, 128, 128)
    with torch.inference_mode():
        expected = model(inputs)
        got = prepared(inputs.contiguous(memory_format=torch.channels_last))
    assert (got - expected).abs().max() < 1e-3  # pixels; float rounding only


def test_resfcn_keeps_batchnorm_after_residual_sums():
    folded = fold_batchnorm(ResFCN256())
    remaining = [m for m in folded.modules() if isinstance(m, nn.BatchNorm2d)]
    assert len(remaining) == 10  # one per residual block, after the sum


def test_frozen_trace_matches_prepared_model_at_any_batch_size():
    model = create_model("mobile_posmap128")
    _randomise_batchnorm(model)
    prepared = prepare_for_inference(model)
    frozen = freeze_for_cpu(prepared, 128)
    assert not list(frozen.parameters())  # folded into the graph
    crops = np.random.default_rng(0).integers(0, 256, (3, 128, 128, 3), dtype=np.uint8)
    config = get_config("mobile_posmap128")
    for count in (1, 3, 2):  # traced on batch 1; other sizes and a size seen later
        expected = predict_posmaps(prepared, config, crops[:count])
        got = predict_posmaps(frozen, config, crops[:count])
        assert got.shape == (count, 128, 128, 3)
        assert np.abs(got - expected).max() < 1e-3  # pixels; float rounding only


def test_the_cpu_predictor_runs_the_frozen_trace():
    from facerecon.predictor import NetworkPredictor

    assert isinstance(NetworkPredictor("mobile_posmap128").model, torch.jit.ScriptModule)
