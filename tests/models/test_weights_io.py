"""Strict safetensors loading: every mismatch is a WeightsError that names the keys."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import save_file
from torch import nn

from facerecon.errors import WeightsError
from facerecon.models import create_model, load_weights, save_weights, weights_model


def _small() -> nn.Module:
    return nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4))


def _tensors(model: nn.Module) -> dict[str, torch.Tensor]:
    return {key: value.clone() for key, value in model.state_dict().items()}


def test_round_trip_and_atomic_write(tmp_path):
    source = _small()
    path = save_weights(source, tmp_path / "sub" / "w.safetensors", metadata={"model": "small"})
    assert [p.name for p in path.parent.iterdir()] == ["w.safetensors"]  # no temporary left
    target = load_weights(_small(), path)
    for key, value in source.state_dict().items():
        assert torch.equal(value, target.state_dict()[key])


def test_missing_key_is_named(tmp_path):
    tensors = _tensors(_small())
    del tensors["1.running_var"]
    save_file(tensors, str(tmp_path / "w.safetensors"))
    with pytest.raises(WeightsError, match=r"missing keys: 1\.running_var"):
        load_weights(_small(), tmp_path / "w.safetensors")


def test_unexpected_key_is_named(tmp_path):
    tensors = _tensors(_small())
    tensors["2.weight"] = torch.zeros(1)
    save_file(tensors, str(tmp_path / "w.safetensors"))
    with pytest.raises(WeightsError, match=r"unexpected keys: 2\.weight"):
        load_weights(_small(), tmp_path / "w.safetensors")


def test_misshaped_key_is_named_and_model_left_unchanged(tmp_path):
    tensors = _tensors(_small())
    tensors["0.weight"] = torch.zeros(4, 3, 5, 5)
    save_file(tensors, str(tmp_path / "w.safetensors"))
    model = _small()
    before = _tensors(model)
    expected = r"mis-shaped keys: 0\.weight \(4, 3, 5, 5\) != \(4, 3, 3, 3\)"
    with pytest.raises(WeightsError, match=expected):
        load_weights(model, tmp_path / "w.safetensors")
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key])


def test_weights_of_another_model_are_rejected(tmp_path):
    path = save_weights(create_model("mobile_posmap128"), tmp_path / "mobile.safetensors")
    with pytest.raises(WeightsError, match="does not match ResFCN256: missing keys"):
        create_model("prn_resfcn256", weights=path)


def test_missing_file_wrong_suffix_and_garbage(tmp_path):
    with pytest.raises(WeightsError, match="not found"):
        load_weights(_small(), tmp_path / "absent.safetensors")
    with pytest.raises(WeightsError, match="must be a .safetensors file"):
        load_weights(_small(), tmp_path / "weights.pth")
    with pytest.raises(WeightsError, match="must be a .safetensors file"):
        save_weights(_small(), tmp_path / "weights.pth")
    garbage = tmp_path / "garbage.safetensors"
    garbage.write_text("this is not a safetensors file")
    with pytest.raises(WeightsError, match="not a readable safetensors file"):
        load_weights(_small(), garbage)


def test_weights_name_the_model_they_were_trained_as(tmp_path):
    named = save_weights(_small(), tmp_path / "named.safetensors", {"model": "mobile_posmap64"})
    unnamed = save_weights(_small(), tmp_path / "unnamed.safetensors")
    assert weights_model(named) == "mobile_posmap64"
    assert weights_model(unnamed) is None
    with pytest.raises(WeightsError, match="not found"):
        weights_model(tmp_path / "absent.safetensors")
    garbage = tmp_path / "garbage.safetensors"
    garbage.write_text("this is not a safetensors file")
    with pytest.raises(WeightsError, match="not a readable safetensors file"):
        weights_model(garbage)
