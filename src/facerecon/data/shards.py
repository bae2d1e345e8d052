"""Dataset shards: write and read the ``.npz`` files of ``facerecon data build``.

A shard is a zip of ``.npy`` members (``np.load`` reads it), written byte-reproducibly (fixed
member dates, fixed order, no compression) and atomically. For n samples:

- ``images``: (total,) uint8, the crops' JPEG files one after another;
  ``image_offsets``: (n + 1,) int64, sample i is ``images[offsets[i]:offsets[i + 1]]``.
- ``posmaps``: (n, R, R, 3) float16 position maps, values in pixels of the S x S crop
  (x right, y down, z larger nearer; :mod:`facerecon.data.groundtruth`).
- ``landmarks``: (n, 68, 3) float32, the 68 landmarks of the position map (crop pixels).
- ``visible``: (n, 68) bool, landmark not self-occluded in the crop.
- ``annotation``: (n, 68, 3) float32 the landmarks the fit was made to (human or teacher),
  in crop pixels; NaN for synthetic views, z NaN for 2D annotations.
- ``meta``: uint8 UTF-8 JSON list of n dicts (source, image_id, split, pose, residual...).
- ``shard_info``: uint8 UTF-8 JSON dict about the whole shard (photos, drops, timing).

:func:`iter_samples` is the torch-free reader: sample dicts with ``image`` (S, S, 3) uint8
RGB, ``posmap`` (R, R, 3) float32, ``landmarks``, ``visible``, ``annotation``, ``meta``;
:func:`rescale_points` converts crop pixels to a network's input size.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from facerecon.atomic import atomic_path
from facerecon.errors import DataNotFoundError, InvalidInputError

SHARD_SUFFIX = ".npz"
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
_JPEG_QUALITY = 92


def encode_jpeg(image: np.ndarray, quality: int = _JPEG_QUALITY) -> bytes:
    """(S, S, 3) uint8 RGB -> JPEG bytes (OpenCV's encoder, deterministic)."""
    ok, data = cv2.imencode(".jpg", np.ascontiguousarray(image[..., ::-1]),
                            [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise InvalidInputError("JPEG encoding failed")
    return data.tobytes()


def decode_jpeg(data) -> np.ndarray:
    """JPEG bytes -> (H, W, 3) uint8 RGB."""
    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise InvalidInputError("not a decodable JPEG")
    return np.ascontiguousarray(image[..., ::-1])


def _json_array(value) -> np.ndarray:
    return np.frombuffer(json.dumps(value, sort_keys=True).encode("utf-8"), dtype=np.uint8)


def write_shard(path: str | Path, samples: list[dict], info: dict) -> None:
    """Write samples atomically to ``path``.

    Args:
        samples: dicts with ``jpeg`` (bytes), ``posmap`` (R, R, 3), ``landmarks`` (68, 3),
            ``visible`` (68,), ``annotation`` (68, 3) and ``meta`` (JSON-able dict). An empty
            list writes a shard with no samples (all its photos were dropped).
        info: JSON-able dict stored as ``shard_info``.
    """
    jpegs = [sample["jpeg"] for sample in samples]
    offsets = np.zeros(len(samples) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([len(data) for data in jpegs])
    resolution = samples[0]["posmap"].shape[0] if samples else 0
    members = {
        "images": np.frombuffer(b"".join(jpegs), dtype=np.uint8),
        "image_offsets": offsets,
        "posmaps": (np.stack([s["posmap"] for s in samples]).astype(np.float16) if samples
                    else np.zeros((0, resolution, resolution, 3), np.float16)),
        "landmarks": np.array([s["landmarks"] for s in samples], np.float32).reshape(-1, 68, 3),
        "visible": np.array([s["visible"] for s in samples], bool).reshape(-1, 68),
        "annotation": np.array([s["annotation"] for s in samples], np.float32).reshape(-1, 68, 3),
        "meta": _json_array([s["meta"] for s in samples]),
        "shard_info": _json_array(info),
    }
    with atomic_path(path) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as archive:
        for name, array in members.items():
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.ascontiguousarray(array), allow_pickle=False)
            archive.writestr(zipfile.ZipInfo(f"{name}.npy", date_time=_ZIP_DATE),
                             buffer.getvalue())


def _load_json(archive, name: str):
    return json.loads(archive[name].tobytes().decode("utf-8"))


def read_shard_info(path: str | Path) -> dict:
    """The ``shard_info`` dict of a shard (reads only that member)."""
    with np.load(path, allow_pickle=False) as archive:
        return _load_json(archive, "shard_info")


def read_shard_meta(path: str | Path) -> list[dict]:
    """The per-sample ``meta`` dicts of a shard (reads only that member)."""
    with np.load(path, allow_pickle=False) as archive:
        return _load_json(archive, "meta")


def read_shard(path: str | Path) -> list[dict]:
    """All samples of one shard as dicts (see the module docstring)."""
    path = Path(path)
    if not path.is_file():
        raise DataNotFoundError(f"no shard {path}")
    with np.load(path, allow_pickle=False) as archive:
        images = archive["images"]
        offsets = archive["image_offsets"]
        posmaps = archive["posmaps"]
        landmarks = archive["landmarks"]
        visible = archive["visible"]
        annotation = archive["annotation"]
        meta = _load_json(archive, "meta")
    return [{"image": decode_jpeg(images[offsets[i]:offsets[i + 1]]),
             "posmap": posmaps[i].astype(np.float32), "landmarks": landmarks[i],
             "visible": visible[i], "annotation": annotation[i], "meta": meta[i]}
            for i in range(len(meta))]


def rescale_points(points, from_size: int, to_size: int) -> np.ndarray:
    """Map crop-pixel points or position-map values (..., 3) from an S-pixel crop to the same
    crop resized to s pixels: ``x' = (s / S)(x + 0.5) - 0.5`` (same for y; integer
    coordinates are pixel centres) and ``z' = (s / S) z``. Returns a new float32 array.

    >>> rescale_points(np.array([[255.5, -0.5, 10.0]]), 256, 128).tolist()
    [[127.5, -0.5, 5.0]]
    """
    values = np.asarray(points, dtype=np.float32)
    if values.ndim < 1 or values.shape[-1] != 3 or from_size < 1 or to_size < 1:
        raise InvalidInputError(f"points must be (..., 3) and sizes >= 1, got {values.shape}")
    ratio = np.float32(to_size / from_size)
    out = values * ratio
    out[..., :2] += np.float32(0.5) * ratio - np.float32(0.5)
    return out


def list_shards(folder: str | Path, split: str | None = None) -> list[Path]:
    """Shard files of a build folder, sorted; ``split`` ("train"/"val") filters by prefix."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataNotFoundError(f"no build folder {folder}")
    pattern = f"{split}-*{SHARD_SUFFIX}" if split else f"*{SHARD_SUFFIX}"
    return sorted(path for path in folder.glob(pattern) if not path.name.startswith("."))


def iter_samples(folder: str | Path, split: str | None = None, shuffle: bool = False,
                 seed: int = 0) -> Iterator[dict]:
    """Iterate over the samples of a build folder, shard by shard.

    Args:
        folder: the ``-o`` folder of ``facerecon data build``.
        split: "train", "val" or None for both.
        shuffle: shuffle the shard order and the samples within each shard.
        seed: shuffling seed.
    """
    shards = list_shards(folder, split)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(shards)) if shuffle else range(len(shards))
    for index in order:
        samples = read_shard(shards[index])
        inner = rng.permutation(len(samples)) if shuffle else range(len(samples))
        for sample_index in inner:
            yield samples[sample_index]
