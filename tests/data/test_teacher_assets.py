import os
import pickle

import numpy as np
import pytest

from facerecon.data.teacher.assets import (
    cached_state_dict,
    check_folder,
    read_assets,
    read_mean_std,
)
from facerecon.errors import DataNotFoundError, WeightsError
from tests.conftest import require_shared


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo should-not-run",))


def test_unpickler_refuses_code(tmp_path):
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps({"mean": _Evil(), "std": np.zeros(62, np.float32)}))
    with pytest.raises(WeightsError, match="refusing"):
        read_mean_std(path)


def test_unpickler_reads_numpy_arrays(tmp_path):
    path = tmp_path / "ok.pkl"
    mean, std = np.arange(62, dtype=np.float32), np.ones(62, np.float32)
    path.write_bytes(pickle.dumps({"mean": mean, "std": std}, protocol=3))
    got_mean, got_std = read_mean_std(path)
    np.testing.assert_array_equal(got_mean, mean)
    np.testing.assert_array_equal(got_std, std)


def test_missing_files_are_named(tmp_path):
    with pytest.raises(DataNotFoundError, match="mb05_120x120.pth"):
        check_folder(tmp_path)


def test_shared_assets_and_cache(tmp_path, monkeypatch):
    folder = require_shared("teacher-3ddfa")
    assets = read_assets(folder)
    assert assets.param_mean.shape == (62,) and assets.w_exp_base.shape == (204, 10)
    monkeypatch.setenv("FACERECON_CACHE", str(tmp_path))
    state = cached_state_dict(folder)
    assert len(state) == 166 and not any(key.startswith("module.") for key in state)
    cached = list((tmp_path / "teacher").glob("*.safetensors"))
    assert len(cached) == 1
    again = cached_state_dict(folder)  # second call reads the safetensors file
    assert all(np.array_equal(state[k].numpy(), again[k].numpy()) for k in state)
