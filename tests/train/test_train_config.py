import pytest

from facerecon.errors import DataNotFoundError, InvalidInputError
from facerecon.train.config import TrainConfig, apply_overrides, from_dict, load_config


def _write(tmp_path, text: str):
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_then_yaml_then_overrides(tmp_path):
    path = _write(tmp_path, "data_dir: /data\nlr: 0.002\naugment:\n  rotation_deg: 30\n")
    config = load_config(path, ["lr=5e-4", "augment.occlusion_prob=0", "max_steps=7",
                                "bf16=false"])
    assert config.data_dir == "/data" and config.lr == 5e-4 and config.max_steps == 7
    assert config.augment.rotation_deg == 30.0 and config.augment.occlusion_prob == 0.0
    assert config.bf16 is False
    assert config.batch_size == TrainConfig().batch_size  # untouched default
    assert from_dict(config.to_dict()) == config


def test_ints_are_accepted_for_floats_but_not_the_reverse(tmp_path):
    config = load_config(_write(tmp_path, "data_dir: d\nlr: 1\n"))
    assert config.lr == 1.0 and isinstance(config.lr, float)
    with pytest.raises(InvalidInputError, match="batch_size"):
        load_config(_write(tmp_path, "data_dir: d\nbatch_size: 3.5\n"))


@pytest.mark.parametrize("text, message", [
    ("data_dir: d\nlearning_rate: 0.1\n", "unknown config key.*learning_rate"),
    ("data_dir: d\naugment:\n  rotaton_deg: 3\n", "augment.rotaton_deg"),
    ("data_dir: d\nbf16: 'yes'\n", "bf16"),
    ("data_dir: d\naugment: 3\n", "augment must be a mapping"),
    ("data_dir: d\nschedule: linear\n", "schedule"),
    ("data_dir: d\nepochs: 0\n", "epochs"),
    ("data_dir: d\naugment:\n  scale_min: 2\n", "scale_min"),
    ("data_dir: d\ndevice: tpu\n", "device"),
    ("lr: 0.1\n", "data_dir"),
    ("- a list\n", "mapping"),
    ("data_dir: [unclosed\n", "YAML"),
])
def test_bad_files_name_the_problem(tmp_path, text, message):
    with pytest.raises(InvalidInputError, match=message):
        load_config(_write(tmp_path, text))


def test_bad_overrides(tmp_path):
    with pytest.raises(InvalidInputError, match="key=value"):
        apply_overrides(TrainConfig(), ["lr"])
    with pytest.raises(InvalidInputError, match="unknown"):
        apply_overrides(TrainConfig(), ["augment.nothing=1"])
    with pytest.raises(InvalidInputError, match="workers"):
        load_config(None, ["data_dir=d", "workers=-1"])
    with pytest.raises(InvalidInputError, match="gradient_loss_weight"):
        load_config(None, ["data_dir=d", "gradient_loss_weight=-0.5"])
    with pytest.raises(InvalidInputError, match="landmark_loss_weight"):
        load_config(None, ["data_dir=d", "landmark_loss_weight=-1"])


def test_missing_file():
    with pytest.raises(DataNotFoundError):
        load_config("/nonexistent/config.yaml")


def test_committed_configs_load():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "configs"
    for name in ("mobile_posmap128.yaml", "gpu.yaml"):
        config = load_config(root / name, ["data_dir=/data"])
        assert config.model.startswith(("mobile_posmap", "prn_"))
