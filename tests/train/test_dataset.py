import numpy as np
import pytest

from facerecon.data.shards import read_shard
from facerecon.errors import DataNotFoundError
from facerecon.models import get_config
from facerecon.posmap import encode
from facerecon.topology import load_topology
from facerecon.train.dataset import ShardDataset, collate
from facerecon.train.resample import resample_posmap


def test_samples_are_brought_to_the_model_geometry(tmp_path, make_build):
    folder = make_build(tmp_path / "b", train=3, val=2, crop=256, resolution=128)
    dataset = ShardDataset(folder, "train", get_config("mobile_posmap128"))
    raw = read_shard(folder / "train-00000.npz")
    mask = load_topology(128).uv_mask
    assert len(dataset) == 3
    for index, sample in enumerate(dataset):
        assert sample["image"].shape == (128, 128, 3) and sample["image"].dtype == np.uint8
        posmap = sample["posmap"]
        assert posmap.shape == (128, 128, 3) and posmap.dtype == np.float32
        assert posmap[mask, 2].min() == 0 and np.all(posmap[~mask] == 0)
        # x, y follow the pixel-centre mapping of the 256 -> 128 resize; z is halved.
        expected = raw[index]["posmap"][mask]
        np.testing.assert_allclose(posmap[mask, :2], (expected[:, :2] + 0.5) / 2 - 0.5,
                                   atol=1e-4)
        depth = expected[:, 2] / 2
        np.testing.assert_allclose(posmap[mask, 2], depth - depth.min(), atol=1e-3)
        np.testing.assert_allclose(sample["landmarks"][:, :2],
                                   (raw[index]["landmarks"][:, :2] + 0.5) / 2 - 0.5, atol=1e-4)
    batch = collate([dataset[0], dataset[1]])
    assert tuple(batch["image"].shape) == (2, 128, 128, 3)
    assert tuple(batch["is_300w_real"].shape) == (2,)


def test_val_flags_real_300w_photos(tiny_build):
    dataset = ShardDataset(tiny_build, "val", get_config("mobile_posmap128"))
    assert dataset.is_300w_real.tolist() == [True, False, False]
    assert dataset.is_300w.tolist() == [True, False, False]
    assert np.isnan(dataset[1]["annotation"]).all()
    assert len(ShardDataset(tiny_build, "val", get_config("mobile_posmap128"), 2)) == 2


def test_missing_split_raises(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataNotFoundError):
        ShardDataset(tmp_path / "empty", "train", get_config("mobile_posmap128"))


def test_resample_between_topologies_matches_direct_encoding():
    """The canonical face encoded at 256 and resampled to 128 equals its 128 encoding."""
    fine, coarse = load_topology(256), load_topology(128)
    vertices = fine.canonical_vertices
    down = resample_posmap(encode(vertices, fine), 128)
    error = np.linalg.norm(down - encode(vertices, coarse), axis=-1)[coarse.uv_mask]
    assert np.median(error) < 0.05 and np.percentile(error, 99) < 0.5
    assert np.all(down[~coarse.uv_mask] == 0)
    up = resample_posmap(encode(vertices, coarse), 256)
    error = np.linalg.norm(up - encode(vertices, fine), axis=-1)[fine.uv_mask]
    assert np.median(error) < 0.1


def test_dataset_resamples_a_256_posmap_for_a_128_model(tmp_path, make_build):
    folder = make_build(tmp_path / "b", train=2, val=1, crop=128, resolution=256)
    sample = ShardDataset(folder, "train", get_config("mobile_posmap128"))[0]
    assert sample["posmap"].shape == (128, 128, 3)
