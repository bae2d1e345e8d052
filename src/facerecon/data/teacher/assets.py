"""Read the 3DDFA_V2 teacher files once and cache the weights as safetensors.

The teacher folder (``shared/data/teacher-3ddfa`` laid out as published) holds:

- ``mb05_120x120.pth``: a legacy ``torch.save`` dict ``{'epoch', 'state_dict'}`` whose keys
  carry DataParallel's ``module.`` prefix. It is read with ``torch.load(weights_only=True)``
  (tensor reconstruction only, no arbitrary code) and written once to
  ``cache_dir()/teacher/mb05_120x120-<sha256[:16]>.safetensors``; later loads read the cache.
- ``param_mean_std_62d_120x120.pkl``: ``{'mean': (62,) float32, 'std': (62,) float32}``,
  read by :class:`_NumpyOnlyUnpickler`, which refuses every global except numpy's array
  reconstruction.
- ``u_base.txt`` (204,), ``w_shp_base.txt`` (204, 40), ``w_exp_base.txt`` (204, 10): the
  68-landmark rows of the 3DMM mean and bases, interleaved per vertex (x0, y0, z0, x1, ...).
"""

from __future__ import annotations

import hashlib
import io
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from facerecon.errors import DataNotFoundError, WeightsError
from facerecon.paths import cache_dir

CHECKPOINT = "mb05_120x120.pth"
MEAN_STD = "param_mean_std_62d_120x120.pkl"
BASES = ("u_base.txt", "w_shp_base.txt", "w_exp_base.txt")
REQUIRED = (CHECKPOINT, MEAN_STD, *BASES)

# numpy >= 2 moved numpy.core to numpy._core; pickles written by numpy 1.x name the old path.
_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): ("numpy._core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"): ("numpy._core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"): ("numpy", "ndarray"),
    ("numpy", "dtype"): ("numpy", "dtype"),
}


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """An unpickler that rebuilds numpy arrays and nothing else (no code can run)."""

    def find_class(self, module: str, name: str):
        target = _ALLOWED_GLOBALS.get((module, name))
        if target is None:
            raise WeightsError(f"refusing to unpickle {module}.{name}: only numpy arrays allowed")
        return super().find_class(*target)


@dataclass(frozen=True)
class TeacherAssets:
    """Everything the teacher needs besides the network weights.

    Attributes:
        param_mean, param_std: (62,) float32; ``param = output * std + mean``.
        u_base: (204, 1) float32 mean shape of the 68 landmarks, interleaved xyz.
        w_shp_base: (204, 40) float32 shape basis; w_exp_base: (204, 10) expression basis.
    """

    param_mean: np.ndarray
    param_std: np.ndarray
    u_base: np.ndarray
    w_shp_base: np.ndarray
    w_exp_base: np.ndarray


def check_folder(folder: str | Path) -> Path:
    """Return ``folder`` as a Path; raise DataNotFoundError naming every missing file."""
    folder = Path(folder)
    missing = [name for name in REQUIRED if not (folder / name).is_file()]
    if missing:
        raise DataNotFoundError(f"teacher folder {folder} lacks {', '.join(missing)}")
    return folder


def read_mean_std(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Read the (62,) mean and std from the parameter pickle without running pickled code."""
    with open(path, "rb") as handle:
        data = _NumpyOnlyUnpickler(io.BytesIO(handle.read())).load()
    try:
        mean = np.asarray(data["mean"], dtype=np.float32).reshape(62)
        std = np.asarray(data["std"], dtype=np.float32).reshape(62)
    except (KeyError, TypeError, ValueError) as error:
        raise WeightsError(f"{path}: expected {{'mean': (62,), 'std': (62,)}}: {error}") from error
    return mean, std


def read_assets(folder: str | Path) -> TeacherAssets:
    """Read mean/std and the 68-point bases from a teacher folder."""
    folder = check_folder(folder)
    mean, std = read_mean_std(folder / MEAN_STD)
    u_base, w_shp, w_exp = (np.loadtxt(folder / name, dtype=np.float32, ndmin=2) for name in BASES)
    u_base = u_base.reshape(-1, 1)
    if u_base.shape != (204, 1) or w_shp.shape != (204, 40) or w_exp.shape != (204, 10):
        raise WeightsError(
            f"{folder}: bases have shapes {u_base.shape}, {w_shp.shape}, {w_exp.shape}; "
            "expected (204, 1), (204, 40), (204, 10)"
        )
    return TeacherAssets(mean, std, u_base, w_shp, w_exp)


def cached_state_dict(folder: str | Path) -> dict:
    """Return the network's state_dict (without ``module.``), converting it once to safetensors.

    The cache file name carries the checkpoint's SHA-256 prefix, so a different checkpoint
    never reuses a stale conversion.
    """
    from safetensors.torch import load_file, save_file

    from facerecon.atomic import atomic_path

    checkpoint = check_folder(folder) / CHECKPOINT
    digest = hashlib.sha256(checkpoint.read_bytes()).hexdigest()[:16]
    cached = cache_dir() / "teacher" / f"mb05_120x120-{digest}.safetensors"
    if cached.is_file():
        return load_file(cached)
    state = _read_checkpoint(checkpoint)
    with atomic_path(cached) as tmp:
        save_file(state, tmp)
    return state


def _read_checkpoint(path: Path) -> dict:
    import torch

    try:
        loaded = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises several types for corrupt or unsafe files
        raise WeightsError(f"{path}: cannot read checkpoint: {error}") from error
    state = loaded.get("state_dict", loaded) if isinstance(loaded, dict) else None
    if not isinstance(state, dict):
        raise WeightsError(f"{path}: no state_dict in checkpoint")
    return {key.removeprefix("module."): value.contiguous() for key, value in state.items()}
