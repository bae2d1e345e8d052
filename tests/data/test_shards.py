"""Shard files: write/read round trip, byte-reproducible writes, no half shard on failure."""

from __future__ import annotations

import numpy as np
import pytest

from facerecon.data.shards import (
    encode_jpeg,
    iter_samples,
    list_shards,
    read_shard,
    read_shard_info,
    read_shard_meta,
    rescale_points,
    write_shard,
)


def _samples(count: int, seed: int = 0) -> list[dict]:
    rng = np.random.default_rng(seed)
    samples = []
    for index in range(count):
        image = np.zeros((32, 32, 3), np.uint8)
        image[..., index % 3] = 40 * (index + 1)  # flat colours survive JPEG closely
        annotation = np.full((68, 3), np.nan, np.float32)
        annotation[:, :2] = rng.uniform(0, 32, (68, 2))
        samples.append({"jpeg": encode_jpeg(image),
                        "posmap": rng.uniform(-20, 40, (8, 8, 3)).astype(np.float32),
                        "landmarks": rng.uniform(0, 32, (68, 3)).astype(np.float32),
                        "visible": rng.uniform(size=68) > 0.3, "annotation": annotation,
                        "meta": {"image_id": f"img{index}", "yaw": float(index), "split": "train"},
                        "image": image})
    return samples


def test_round_trip(tmp_path):
    samples = _samples(3)
    path = tmp_path / "train-00000.npz"
    write_shard(path, samples, {"photos": 3})
    back = read_shard(path)
    assert len(back) == 3 and read_shard_info(path) == {"photos": 3}
    assert [m["image_id"] for m in read_shard_meta(path)] == ["img0", "img1", "img2"]
    for original, loaded in zip(samples, back, strict=True):
        assert loaded["image"].dtype == np.uint8 and loaded["image"].shape == (32, 32, 3)
        assert np.abs(loaded["image"].astype(int) - original["image"]).max() <= 3
        assert loaded["posmap"].dtype == np.float32
        # float16 storage: relative rounding 2^-11
        np.testing.assert_allclose(loaded["posmap"], original["posmap"], rtol=1e-3, atol=1e-2)
        np.testing.assert_array_equal(loaded["landmarks"], original["landmarks"])
        np.testing.assert_array_equal(loaded["visible"], original["visible"])
        np.testing.assert_array_equal(loaded["annotation"], original["annotation"])
        assert loaded["meta"] == original["meta"]


def test_writes_are_byte_reproducible_and_iterable(tmp_path):
    write_shard(tmp_path / "a" / "train-00000.npz", _samples(2), {"n": 2})
    write_shard(tmp_path / "b" / "train-00000.npz", _samples(2), {"n": 2})
    first = (tmp_path / "a" / "train-00000.npz").read_bytes()
    assert first == (tmp_path / "b" / "train-00000.npz").read_bytes()
    write_shard(tmp_path / "a" / "val-00000.npz", _samples(1, seed=1), {"n": 1})
    assert [p.name for p in list_shards(tmp_path / "a", "val")] == ["val-00000.npz"]
    assert len(list(iter_samples(tmp_path / "a"))) == 3
    shuffled = [s["meta"]["image_id"] for s in iter_samples(tmp_path / "a", "train", True, 5)]
    assert sorted(shuffled) == ["img0", "img1"]


def test_empty_shard_and_failed_write_leave_no_half_file(tmp_path):
    write_shard(tmp_path / "train-00000.npz", [], {"photos": 1, "dropped": {"residual": 1}})
    assert read_shard(tmp_path / "train-00000.npz") == []
    broken = _samples(2)
    broken[1]["posmap"] = np.zeros((4, 4, 3), np.float32)  # cannot stack with 8 x 8
    with pytest.raises(ValueError):
        write_shard(tmp_path / "train-00001.npz", broken, {})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["train-00000.npz"]


def test_rescale_points_keeps_pixel_centres_and_edges():
    points = np.array([[0.0, 255.0, 4.0], [-0.5, 255.5, -2.0]], np.float32)
    out = rescale_points(points, 256, 128)
    np.testing.assert_allclose(out, [[-0.25, 127.25, 2.0], [-0.5, 127.5, -1.0]])
    np.testing.assert_allclose(rescale_points(out, 128, 256), points, atol=1e-5)


def test_module_doctests_pass():
    import doctest

    from facerecon.data import shards

    assert doctest.testmod(shards).failed == 0
