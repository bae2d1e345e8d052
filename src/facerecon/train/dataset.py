"""Torch dataset over the shards of ``facerecon data build`` (:mod:`facerecon.data.shards`).

Shards are zips of uncompressed ``.npy`` members, so each member is memory-mapped in place
and a sample is read (one JPEG decode, one position map) without loading whole shards: a
60k-sample build takes no more RAM than the page cache gives it.

Each sample is brought to the model's geometry:

- the crop (S x S, S read from the JPEG) is resized to the model's ``input_size`` S' with
  ``INTER_AREA``; position-map and landmark coordinates follow the same pixel-centre mapping
  (:func:`facerecon.data.shards.rescale_points`: ``x' = (x + 0.5) * S'/S - 0.5`` and y,
  ``z' = z * S'/S``, so x, y, z scale alike);
- a position map of another UV resolution than ``output_size`` is resampled with
  :func:`facerecon.train.resample.resample_posmap` (measured errors in docs/training.md);
- **z is shifted so that its minimum over ``uv_mask`` is 0** (PRN's convention): the networks
  end in ``sigmoid * output_scale`` and cannot output negative values, and depth has no
  absolute origin in a single photo anyway. Pixels outside ``uv_mask`` stay 0.
"""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from facerecon.data.shards import decode_jpeg, list_shards, read_shard_meta, rescale_points
from facerecon.errors import DataNotFoundError, InvalidInputError
from facerecon.models import ModelConfig
from facerecon.topology import load_topology
from facerecon.train.resample import resample_posmap

_MEMBERS = ("images", "image_offsets", "posmaps", "landmarks", "annotation")


def _member_view(path: Path, raw: np.ndarray, archive: zipfile.ZipFile,
                 name: str) -> np.ndarray:
    """The uncompressed member ``name.npy`` as a view into ``raw`` (the whole file mapped);
    a loaded copy if the member is compressed."""
    info = archive.getinfo(f"{name}.npy")
    if info.compress_type != zipfile.ZIP_STORED:
        with archive.open(info) as member:
            return np.lib.format.read_array(member, allow_pickle=False)
    with open(path, "rb") as handle:
        handle.seek(info.header_offset)
        local = handle.read(30)
        if local[:4] != b"PK\x03\x04":
            raise InvalidInputError(f"{path}: corrupt zip member {name}")
        name_length = int.from_bytes(local[26:28], "little")
        extra_length = int.from_bytes(local[28:30], "little")
        handle.seek(info.header_offset + 30 + name_length + extra_length)
        version = np.lib.format.read_magic(handle)
        read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                       else np.lib.format.read_array_header_2_0)
        shape, fortran, dtype = read_header(handle)
        offset = handle.tell()
    if fortran:
        raise InvalidInputError(f"{path}: member {name} is Fortran-ordered")
    count = int(np.prod(shape))
    return raw[offset:offset + count * dtype.itemsize].view(dtype).reshape(shape)


def _is_300w(meta: dict) -> bool:
    return str(meta.get("source", "")).startswith("300w")


def _is_300w_real(meta: dict) -> bool:
    return _is_300w(meta) and not meta.get("synthetic", True)


class ShardDataset(Dataset):
    """Samples of one split of a build folder, in the model's geometry.

    ``dataset[i]`` is a dict of numpy arrays:

    - ``image``: (S', S', 3) uint8 RGB, S' = ``config.input_size``;
    - ``posmap``: (R, R, 3) float32, R = ``config.output_size``, crop pixels of the S' crop,
      z minimum over ``uv_mask`` at 0, 0 outside the mask;
    - ``landmarks``: (68, 3) float32 the position map's landmarks (same frame, same z shift);
    - ``annotation``: (68, 3) float32 the landmarks the fit was made to (NaN for synthetic
      views), x and y in the S' crop;
    - ``is_300w_real``: bool, a real (not re-posed) 300-W photo with human annotation.

    Per sample, without decoding: ``is_300w`` (N,) bool, from a 300-W photo (the photo or one
    of its synthetic views), and ``is_300w_real`` (N,) bool.

    Args:
        data_dir: the output folder of ``facerecon data build``, or a sequence of such
            folders whose shards are taken together, in the order given.
        split: "train" or "val".
        config: the model's config (sizes).
        max_samples: keep only the first n samples (0: all); for quick validation.

    Raises:
        DataNotFoundError: no shard of that split.
    """

    def __init__(self, data_dir: str | Path | Sequence[str | Path], split: str,
                 config: ModelConfig, max_samples: int = 0):
        folders = [data_dir] if isinstance(data_dir, str | Path) else list(data_dir)
        self.data_dirs = [Path(folder) for folder in folders]
        self.split = split
        self.config = config
        self.shards = []
        for folder in self.data_dirs:
            shards = list_shards(folder, split)
            if not shards:
                raise DataNotFoundError(f"no {split}-*.npz shards in {folder}")
            self.shards += shards
        shard_ids, local_ids, metas = [], [], []
        for shard_id, path in enumerate(self.shards):
            shard_metas = read_shard_meta(path)
            shard_ids += [shard_id] * len(shard_metas)
            local_ids += list(range(len(shard_metas)))
            metas += shard_metas
        keep = slice(None) if max_samples <= 0 else slice(0, max_samples)
        self.shard_ids = np.asarray(shard_ids, dtype=np.int64)[keep]
        self.local_ids = np.asarray(local_ids, dtype=np.int64)[keep]
        self.is_300w = np.asarray([_is_300w(meta) for meta in metas], dtype=bool)[keep]
        self.is_300w_real = np.asarray([_is_300w_real(meta) for meta in metas], dtype=bool)[keep]
        if len(self.shard_ids) == 0:
            names = ", ".join(str(folder) for folder in self.data_dirs)
            raise DataNotFoundError(f"the {split} shards in {names} hold no samples")
        self.uv_mask = load_topology(config.output_size).uv_mask
        self._open: dict[int, dict[str, np.ndarray]] = {}

    def __len__(self) -> int:
        return len(self.shard_ids)

    def __getstate__(self) -> dict:
        # Worker processes re-open the memory maps themselves.
        state = self.__dict__.copy()
        state["_open"] = {}
        return state

    def _arrays(self, shard_id: int) -> dict[str, np.ndarray]:
        if shard_id not in self._open:
            path = self.shards[shard_id]
            # One read-only map per shard file (one descriptor), members are views into it.
            raw = np.memmap(path, dtype=np.uint8, mode="r")
            with zipfile.ZipFile(path) as archive:
                self._open[shard_id] = {name: _member_view(path, raw, archive, name)
                                        for name in _MEMBERS}
        return self._open[shard_id]

    def __getitem__(self, index: int) -> dict:
        arrays = self._arrays(int(self.shard_ids[index]))
        local = int(self.local_ids[index])
        offsets = arrays["image_offsets"]
        image = decode_jpeg(arrays["images"][offsets[local]:offsets[local + 1]])
        crop = image.shape[0]
        if image.shape[:2] != (crop, crop):
            raise InvalidInputError(f"{self.shards[self.shard_ids[index]]}: crop not square")
        size = self.config.input_size
        if crop != size:
            image = cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA)
        posmap = np.asarray(arrays["posmaps"][local], dtype=np.float32)
        if posmap.shape[0] != self.config.output_size:
            posmap = resample_posmap(posmap, self.config.output_size)
        posmap = rescale_points(posmap, crop, size)
        landmarks = rescale_points(arrays["landmarks"][local], crop, size)
        annotation = rescale_points(arrays["annotation"][local], crop, size)
        z_min = posmap[self.uv_mask, 2].min()
        posmap[..., 2] -= z_min
        posmap[~self.uv_mask] = 0
        landmarks[:, 2] -= z_min
        return {"image": image, "posmap": posmap, "landmarks": landmarks,
                "annotation": annotation, "is_300w_real": bool(self.is_300w_real[index])}


def collate(samples: list[dict]) -> dict[str, torch.Tensor]:
    """Stack sample dicts into a batch: image (B, S, S, 3) uint8, posmap (B, R, R, 3) ..."""
    return {key: torch.from_numpy(np.stack([sample[key] for sample in samples]))
            for key in samples[0]}
