"""Every registered network: shapes, value range, gradients, weights round trip."""

from __future__ import annotations

import pytest
import torch

from facerecon.errors import InvalidInputError
from facerecon.models import (
    create_model,
    get_config,
    list_models,
    registry,
    save_weights,
    shipped_refiner,
    shipped_weights,
    weights_model,
)

MODEL_NAMES = list_models()


@pytest.fixture(scope="module", params=MODEL_NAMES)
def named_model(request):
    torch.manual_seed(0)
    return request.param, create_model(request.param)


def test_registry_lists_the_required_models():
    assert {"prn_resfcn256", "mobile_posmap128"} <= set(MODEL_NAMES)


def test_unknown_name_is_a_clear_error():
    with pytest.raises(InvalidInputError, match="unknown model 'nope'.*prn_resfcn256"):
        create_model("nope")
    with pytest.raises(InvalidInputError):
        get_config("nope")
    with pytest.raises(InvalidInputError):
        shipped_weights("nope")


def test_config_matches_its_name(named_model):
    name, _ = named_model
    config = get_config(name)
    assert config.name == name
    assert config.output_scale == pytest.approx(1.1 * config.input_size)


def test_forward_backward_shapes_range_and_finite_grads(named_model):
    name, model = named_model
    config = get_config(name)
    size = config.input_size
    inputs = torch.randn(1, 3, size, size)
    model.train()
    try:
        out = model(inputs)
        assert out.shape == (1, 3, config.output_size, config.output_size)
        assert out.dtype == torch.float32
        assert torch.isfinite(out).all()
        assert out.min() >= 0 and out.max() <= config.output_scale
        # A target away from the output makes every layer receive a gradient.
        out.sub(config.output_scale / 2).square().mean().backward()
    finally:
        model.eval()
    for param_name, param in model.named_parameters():
        assert param.grad is not None, param_name
        assert torch.isfinite(param.grad).all(), param_name
        assert param.grad.abs().sum() > 0, param_name
    model.zero_grad(set_to_none=True)


def test_weights_round_trip_gives_identical_outputs(named_model, tmp_path):
    name, model = named_model
    # Non-trivial batch-norm statistics, so the buffers are part of what is checked.
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-0.1, 0.1)
            module.running_var.uniform_(0.5, 1.5)
    path = save_weights(model, tmp_path / f"{name}.safetensors")
    reloaded = create_model(name, weights=path)
    size = get_config(name).input_size
    inputs = torch.rand(1, 3, size, size)
    with torch.inference_mode():
        assert torch.equal(model(inputs), reloaded(inputs))
    fresh = create_model(name)
    for key, value in reloaded.state_dict().items():
        assert torch.equal(value, model.state_dict()[key]), key
    assert any(
        not torch.equal(value, fresh.state_dict()[key])
        for key, value in reloaded.state_dict().items()
    )


def test_shipped_weights_lookup(tmp_path, monkeypatch):
    monkeypatch.setattr(registry, "WEIGHTS_DIR", tmp_path)
    assert shipped_weights("mobile_posmap128") is None  # None only means "not shipped"
    path = save_weights(create_model("mobile_posmap128"), tmp_path / "mobile_posmap128.safetensors")
    assert shipped_weights("mobile_posmap128") == path
    assert shipped_weights("mobile_posmap256") is None
    create_model("mobile_posmap128", weights=shipped_weights("mobile_posmap128"))


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_shipped_weights_load_strictly(name):
    path = shipped_weights(name)
    if path is None:
        pytest.skip(f"no weights shipped for {name}")
    create_model(name, weights=path)


def test_the_shipped_refiner_loads_strictly_and_differs_from_the_weights():
    """mobile_posmap128 ships a refiner (its card): same architecture, other weights."""
    refiner = shipped_refiner("mobile_posmap128")
    assert refiner is not None and refiner.name == "mobile_posmap128.refiner.safetensors"
    first = create_model("mobile_posmap128", weights=shipped_weights("mobile_posmap128"))
    second = create_model("mobile_posmap128", weights=refiner)
    assert any(not torch.equal(a, b) for a, b in zip(first.state_dict().values(),
                                                      second.state_dict().values(), strict=True))
    assert shipped_refiner("mobile_posmap256") is None
    # both shipped files say which model runs them
    assert weights_model(shipped_weights("mobile_posmap128")) == "mobile_posmap128"
    assert weights_model(refiner) == "mobile_posmap128"


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_sides_not_divisible_by_32_are_rejected(name):
    with pytest.raises(InvalidInputError, match="divisible by 32"):
        create_model(name)(torch.zeros(1, 3, 100, 100))
