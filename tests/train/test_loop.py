import json

import cv2
import numpy as np
import pytest
import torch
from safetensors import safe_open
from torch import nn

from facerecon.cli.main import main
from facerecon.data.shards import write_shard
from facerecon.errors import InvalidInputError
from facerecon.models import ModelConfig, get_config
from facerecon.train import loop
from facerecon.train.checkpoint import data_fingerprint
from facerecon.train.config import load_config
from facerecon.train.dataset import ShardDataset, collate
from facerecon.train.loop import Trainer

TINY = ModelConfig(name="tiny", input_size=128, output_size=128, output_scale=140.8)


class TinyPosmapNet(nn.Module):
    """conv-BN-ReLU down, transposed conv up: enough to have weights, buffers and Adam state."""

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1, bias=False), nn.BatchNorm2d(8),
                                  nn.ReLU(), nn.ConvTranspose2d(8, 3, 4, 2, 1))

    def forward(self, x):
        return torch.sigmoid(self.body(x).float()) * TINY.output_scale


@pytest.fixture()
def tiny_model(monkeypatch):
    monkeypatch.setattr(loop, "get_config", lambda name: TINY)
    monkeypatch.setattr(loop, "create_model", lambda name: TinyPosmapNet())


def _config(build, output, *overrides):
    settings = [f"data_dir={build}", f"output_dir={output}", "batch_size=2", "epochs=2",
                "workers=0", "log_every_steps=1", "checkpoint_every_steps=100", *overrides]
    return load_config(None, settings)


def test_resume_is_exact(tiny_build, tmp_path, tiny_model):
    straight = Trainer(_config(tiny_build, tmp_path / "a", "max_steps=4"))
    straight.run()
    first = Trainer(_config(tiny_build, tmp_path / "b", "max_steps=2"))
    first.run()
    resumed = Trainer(_config(tiny_build, tmp_path / "b", "max_steps=4"),
                      resume=tmp_path / "b" / "last.pt")
    assert resumed.step == 2
    resumed.run()
    assert resumed.step == straight.step == 4  # 3 steps per epoch: crosses an epoch end
    for key, value in straight.model.state_dict().items():
        assert torch.equal(value, resumed.model.state_dict()[key]), key
    a, b = straight.optimizer.state_dict()["state"], resumed.optimizer.state_dict()["state"]
    assert all(torch.equal(a[i]["exp_avg"], b[i]["exp_avg"]) for i in a)
    # Same training log; the resumed run also validated when its first half stopped.
    log_a = [(r["step"], r["loss"]) for r in straight.history() if r["kind"] == "train"]
    log_b = [(r["step"], r["loss"]) for r in resumed.history() if r["kind"] == "train"]
    assert log_a == log_b
    assert [r["step"] for r in resumed.history() if r["kind"] == "val"] == [2, 3, 4]


def test_run_writes_logs_curves_and_weights(tiny_build, tmp_path, tiny_model):
    output = tmp_path / "run"
    summary = Trainer(_config(tiny_build, output, "epochs=1")).run()
    assert summary["step"] == 3 and summary["last_val"]["val_samples"] == 3
    records = [json.loads(line) for line in (output / "metrics.jsonl").read_text().splitlines()]
    train = [r for r in records if r["kind"] == "train"]
    val = [r for r in records if r["kind"] == "val"]
    assert [r["step"] for r in train] == [1, 2, 3] and all(r["img_per_s"] > 0 for r in train)
    assert len(val) == 1 and 0 < val[0]["nme_bbox"] and val[0]["val_samples_300w"] == 1
    assert cv2.imread(str(output / "curves.png")).shape[0] > 100
    with safe_open(str(output / "final.safetensors"), "pt") as handle:
        metadata = handle.metadata()
    assert metadata["model"] == "mobile_posmap128"  # the config's name (model patched)
    assert len(metadata["data_manifest_sha256"]) == 64
    assert json.loads(metadata["config"])["batch_size"] == 2
    assert json.loads(metadata["metrics"])["nme_bbox"] == val[0]["nme_bbox"]
    assert (output / "best.safetensors").is_file() and (output / "config.yaml").is_file()


def test_resume_with_other_settings_or_data_is_refused(tiny_build, tmp_path, tiny_model,
                                                      make_build):
    Trainer(_config(tiny_build, tmp_path / "a", "max_steps=1")).run()
    checkpoint = tmp_path / "a" / "last.pt"
    with pytest.raises(InvalidInputError, match="lr"):
        Trainer(_config(tiny_build, tmp_path / "a", "lr=0.5"), resume=checkpoint)
    make_build(tiny_build, train=8)  # the build grew: same settings, other data
    with pytest.raises(InvalidInputError, match="6 training samples"):
        Trainer(_config(tiny_build, tmp_path / "a"), resume=checkpoint)


def test_extra_builds_join_the_training_set_but_not_validation(tiny_build, tmp_path,
                                                               tiny_model, make_build):
    other = make_build(tmp_path / "other", train=4, val=2, seed=1)
    single = Trainer(_config(tiny_build, tmp_path / "a", "max_steps=1"))
    union = Trainer(_config(tiny_build, tmp_path / "b", f"extra_data_dirs=[{other}]",
                            "max_steps=1"))
    assert (len(single.train_set), len(union.train_set)) == (6, 10)
    assert union.steps_per_epoch == 5 and len(union.val_set) == len(single.val_set) == 3
    union.run()
    with safe_open(str(tmp_path / "b" / "final.safetensors"), "pt") as handle:
        manifest = handle.metadata()["data_manifest"]
    assert manifest.startswith("2 builds: ")
    # one build keeps the fingerprint it always had; the union's differs from each part's
    assert data_fingerprint([tiny_build]) == data_fingerprint(tiny_build)
    union_print = data_fingerprint([tiny_build, other])["data_manifest_sha256"]
    assert union_print not in {data_fingerprint(folder)["data_manifest_sha256"]
                               for folder in (tiny_build, other)}
    assert union_print != data_fingerprint([other, tiny_build])["data_manifest_sha256"]
    for bad in (f"extra_data_dirs=[{tiny_build}]", "extra_data_dirs=['']", "extra_data_dirs=x"):
        with pytest.raises(InvalidInputError, match="extra_data_dirs"):
            _config(tiny_build, tmp_path / "c", bad)


def test_repeat_300w_visits_300w_samples_that_many_times_per_epoch(
        tiny_build, tmp_path, tiny_model, make_sample):
    build = tiny_build
    rng = np.random.default_rng(3)
    samples = [make_sample(rng, 128, 128, "train", "300w/afw"),
               make_sample(rng, 128, 128, "train", "300w/afw", synthetic=True)]
    samples += [make_sample(rng, 128, 128, "train") for _ in range(4)]
    write_shard(build / "train-00000.npz", samples, {"photos": 6})
    plain = Trainer(_config(build, tmp_path / "a"))
    repeated = Trainer(_config(build, tmp_path / "b", "repeat_300w=3"))
    assert plain.steps_per_epoch == 3 and repeated.steps_per_epoch == 5  # 6 and 10 visits
    visits = np.bincount(np.concatenate(list(loop.EpochBatches(
        repeated.epoch_indices, 2, seed=0, epoch=1))), minlength=6)
    assert visits.tolist() == [3, 3, 1, 1, 1, 1]
    # Without repeats the order is the plain permutation of the samples, as before the option.
    order = np.concatenate(list(loop.EpochBatches(plain.epoch_indices, 2, seed=0, epoch=1)))
    assert order.tolist() == np.random.default_rng([0, 1]).permutation(6).tolist()
    with pytest.raises(InvalidInputError, match="repeat_300w"):
        load_config(None, ["data_dir=x", "repeat_300w=0"])


def test_cli_trains_and_resumes(tiny_build, tmp_path, tiny_model, capsys):
    config = tmp_path / "c.yaml"
    config.write_text(f"data_dir: {tiny_build}\noutput_dir: {tmp_path / 'cli'}\nbatch_size: 2\n"
                      "epochs: 1\nworkers: 0\n", encoding="utf-8")
    assert main(["train", "-c", str(config), "--set", "max_steps=1", "--no-progress"]) == 0
    assert json.loads(capsys.readouterr().out)["step"] == 1
    # The checkpoint's own config (max_steps=1) is used unless --set changes it.
    resume = ["train", "--resume", str(tmp_path / "cli" / "last.pt"), "--no-progress"]
    assert main(resume) == 0
    assert json.loads(capsys.readouterr().out)["step"] == 1
    assert main([*resume, "--set", "max_steps=0"]) == 0
    assert json.loads(capsys.readouterr().out)["step"] == 3
    assert main(["train", "--set", "lr=1", "--no-progress"]) == 1  # no config, no checkpoint


def test_cli_validate_only_scores_the_starting_weights_and_writes_nothing(
        tiny_build, tmp_path, tiny_model, capsys):
    trainer = Trainer(_config(tiny_build, tmp_path / "run"))
    trainer.run()
    weights = tmp_path / "run" / "final.safetensors"
    output = tmp_path / "never"
    config = tmp_path / "c.yaml"
    config.write_text(f"data_dir: {tiny_build}\noutput_dir: {output}\nbatch_size: 2\n"
                      f"workers: 0\ninit_weights: {weights}\n", encoding="utf-8")
    arguments = ["train", "-c", str(config), "--validate-only"]
    assert main(arguments) == 0
    scores = json.loads(capsys.readouterr().out)
    assert scores["step"] == 0 and not output.exists()
    assert scores["nme_bbox"] == pytest.approx(trainer.last_val["nme_bbox"], rel=1e-5)
    assert set(scores) >= {"val_loss", "nme_interocular_300w", "val_samples"}


def test_a_real_small_model_overfits_a_fixed_batch(tiny_build):
    """Three Adam steps of mobile_posmap128 (bf16, channels-last) on one batch lower its loss."""
    config = load_config(None, [f"data_dir={tiny_build}", "batch_size=2", "lr=0.003",
                                "augment.enabled=false"])
    trainer = Trainer(config)
    batch = collate([trainer.train_set[i] for i in range(2)])
    losses = [trainer.train_step(batch) for _ in range(3)]
    assert losses[2] < losses[1] < losses[0] and losses[2] < 0.9 * losses[0], losses
    assert isinstance(trainer.train_set, ShardDataset)
    assert trainer.model_config == get_config("mobile_posmap128")


def test_normalisation_on_the_device_matches_the_model_config():
    from facerecon.train.validate import normalize_on

    config = get_config("mobile_posmap128")
    crops = torch.randint(0, 256, (2, 128, 128, 3), dtype=torch.uint8)
    torch.testing.assert_close(normalize_on(crops, config, torch.device("cpu")),
                               config.normalize(crops), rtol=1e-6, atol=1e-6)


def test_validation_can_fill_the_black_frame_and_is_repeatable(tiny_build):
    from facerecon.topology import load_topology
    from facerecon.train.losses import loss_weights
    from facerecon.train.validate import validate

    batch = collate([ShardDataset(tiny_build, "val", TINY)[i] for i in range(3)])
    batch["image"][:, :40] = 0  # a black frame, as around a tight photo
    model = TinyPosmapNet()
    weights = loss_weights(load_topology(TINY.output_size).weight_mask)

    def run(fill):
        return validate(model, TINY, [batch], weights, torch.device("cpu"), False, False,
                        fill_black=fill)

    plain, filled = run(False), run(True)
    assert filled == run(True)
    assert filled["val_loss"] != plain["val_loss"]


def test_gradient_loss_weight_adds_the_gradient_term_and_validation_scores_the_surface(
        tiny_build, tmp_path, tiny_model):
    from facerecon.train.losses import posmap_gradient_loss, weighted_posmap_loss
    from facerecon.train.validate import clamp_targets, forward

    plain = Trainer(_config(tiny_build, tmp_path / "a", "augment.enabled=false"))
    weighted = Trainer(_config(tiny_build, tmp_path / "b", "augment.enabled=false",
                               "gradient_loss_weight=2.5"))
    weighted.model.load_state_dict(plain.model.state_dict())
    batch = collate([plain.train_set[i] for i in range(2)])
    with torch.no_grad():
        pred = forward(plain.model, TINY, batch["image"], plain.device, True, True)
    target = clamp_targets(batch["posmap"], TINY.output_scale)
    prn = float(weighted_posmap_loss(pred, target, plain.weights, TINY.input_size))
    gradient = float(posmap_gradient_loss(pred, target, plain.weights, TINY.input_size))
    assert plain.train_step(batch) == pytest.approx(prn, rel=1e-5)
    assert weighted.train_step(batch) == pytest.approx(prn + 2.5 * gradient, rel=1e-5)
    scores = plain.validate()
    assert scores["val_gradient_loss"] > 0 and 0 < scores["normal_error_deg"] < 180


def test_landmark_loss_weight_adds_the_landmark_term_of_both_passes(tiny_build, tmp_path,
                                                                    tiny_model):
    from facerecon.train.augment import mirror_columns, mirror_posmaps
    from facerecon.train.losses import landmark_loss, weighted_posmap_loss
    from facerecon.train.validate import clamp_targets, forward

    plain = Trainer(_config(tiny_build, tmp_path / "a", "augment.enabled=false",
                            "landmark_loss_weight=2.0"))
    mirrored = Trainer(_config(tiny_build, tmp_path / "b", "augment.enabled=false",
                               "landmark_loss_weight=2.0", "mirror_consistency_weight=0.5"))
    mirrored.model.load_state_dict(plain.model.state_dict())
    batch = collate([plain.train_set[i] for i in range(2)])
    target = clamp_targets(batch["posmap"], TINY.output_scale)
    samples = plain.landmark_samples

    def prn(a, b):
        return float(weighted_posmap_loss(a, b, plain.weights, TINY.input_size))

    def landmarks(a, b):
        return float(landmark_loss(a, b, *samples, TINY.input_size))

    with torch.no_grad():
        pred = forward(plain.model, TINY, batch["image"], plain.device, True, True)
        both = forward(plain.model, TINY, torch.cat([batch["image"], batch["image"].flip(2)]),
                       plain.device, True, True)
    front = both[:2]
    back = mirror_posmaps(both[2:], mirror_columns(plain.uv_mask), TINY.input_size)
    assert landmarks(pred, target) > 0
    assert plain.train_step(batch) == pytest.approx(
        prn(pred, target) + 2.0 * landmarks(pred, target), rel=1e-4)
    expected = ((prn(front, target) + prn(back, target)) / 2 + 0.5 * prn(front, back)
                + 2.0 * (landmarks(front, target) + landmarks(back, target)) / 2)
    assert mirrored.train_step(batch) == pytest.approx(expected, rel=1e-4)


def test_mirror_consistency_runs_crops_and_mirrors_in_one_pass(tiny_build, tmp_path,
                                                                tiny_model):
    from facerecon.train.augment import mirror_columns, mirror_posmaps
    from facerecon.train.losses import weighted_posmap_loss
    from facerecon.train.validate import clamp_targets, forward

    trainer = Trainer(_config(tiny_build, tmp_path / "a", "augment.enabled=false",
                              "mirror_consistency_weight=0.5"))
    batch = collate([trainer.train_set[i] for i in range(2)])
    images = torch.cat([batch["image"], batch["image"].flip(2)])
    with torch.no_grad():  # batch norm in train mode: statistics of crops and mirrors together
        both = forward(trainer.model, TINY, images, trainer.device, True, True)
    pred = both[:2]
    back = mirror_posmaps(both[2:], mirror_columns(trainer.uv_mask), TINY.input_size)
    target = clamp_targets(batch["posmap"], TINY.output_scale)

    def prn(a, b):
        return float(weighted_posmap_loss(a, b, trainer.weights, TINY.input_size))

    assert prn(pred, back) > 0  # the tiny network is not mirror-symmetric
    expected = (prn(pred, target) + prn(back, target)) / 2 + 0.5 * prn(pred, back)
    assert trainer.train_step(batch) == pytest.approx(expected, rel=1e-4)
    with pytest.raises(InvalidInputError, match="mirror_consistency_weight"):
        load_config(None, ["mirror_consistency_weight=-1"]).check()


def test_mirror_targets_in_crop_clips_x_to_the_crop(tiny_build, tmp_path, tiny_model):
    """A target x beyond the crop's last pixel counts as that pixel, and only with the option."""
    settings = ("augment.enabled=false", "mirror_consistency_weight=0.5")
    clipped = Trainer(_config(tiny_build, tmp_path / "a", *settings,
                              "mirror_targets_in_crop=true"))
    plain = Trainer(_config(tiny_build, tmp_path / "b", *settings))
    batch = collate([clipped.train_set[i] for i in range(2)])
    beyond = batch["posmap"].clone()
    beyond[..., 0] += 40.0  # the face leaves the crop on the right
    edge = beyond.clone()
    edge[..., 0] = edge[..., 0].clamp(max=TINY.input_size - 1.0)
    images = batch["image"]
    with torch.no_grad():
        losses = {name: float(trainer._mirror_consistent_loss(images, target)[1])
                  for name, trainer, target in (("clipped beyond", clipped, beyond),
                                                ("clipped edge", clipped, edge),
                                                ("plain beyond", plain, beyond),
                                                ("plain edge", plain, edge))}
    assert losses["clipped beyond"] == pytest.approx(losses["clipped edge"], rel=1e-6)
    assert losses["plain beyond"] != pytest.approx(losses["plain edge"], rel=1e-3)
