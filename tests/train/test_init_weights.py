"""Fine-tuning: a run can start from saved weights instead of a random initialisation."""

import pytest
import torch

from facerecon.errors import WeightsError
from facerecon.models import create_model, save_weights
from facerecon.train import TrainConfig, Trainer


class StopBeforeData(Exception):
    pass


def test_init_weights_are_loaded_strictly(tmp_path, monkeypatch):
    source = create_model("mobile_posmap128")
    path = save_weights(source, tmp_path / "start.safetensors")
    built = {}
    real_create = create_model

    def create_and_keep(name):
        built["model"] = real_create(name)
        return built["model"]

    def no_data(*args, **kwargs):
        raise StopBeforeData

    monkeypatch.setattr("facerecon.train.loop.create_model", create_and_keep)
    monkeypatch.setattr("facerecon.train.loop.ShardDataset", no_data)
    with pytest.raises(StopBeforeData):
        Trainer(TrainConfig(init_weights=str(path), data_dir=str(tmp_path)))
    for key, value in source.state_dict().items():
        assert torch.equal(built["model"].state_dict()[key].cpu(), value), key
    with pytest.raises(WeightsError):
        Trainer(TrainConfig(init_weights=str(tmp_path / "missing.safetensors"),
                            data_dir=str(tmp_path)))
