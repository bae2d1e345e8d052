"""ICT-FaceKit ("ICT Face Model Light") reader, restricted to the face region.

The FaceXModel folder holds 158 OBJ files with the same topology (26,719 vertices, 26,384
quads and triangles, 28,911 ``vt``): ``generic_neutral_mesh``, ``identity000..099`` and the
expression shapes, plus ``vertex_indices.json``. Files may be plain ``*.obj`` (as published)
or ``*.obj.xz`` (as stored in shared/data). Morph targets are absolute positions; the model is

    shape = neutral + sum_i id_w[i] * (identity_i - neutral) + sum_j ex_w[j] * (expr_j - neutral)

with ``id_w ~ N(0, 1)`` and ``ex_w`` in [0, 1], expressions in the order of
``vertex_indices.json["expressions"]`` (53 names).

Region: ICT's "Full face area", vertices 0-9408 and polygons 0-9229 (forehead to upper neck,
ear to ear, one UV island). Every other part (back of the head, mouth and eye sockets, teeth,
eyeballs, lashes) is dropped, so vertex ``i`` of the model is vertex ``i`` of the ICT mesh.
The position map covers a subset of this region (no neck); see :mod:`facerecon.topology`.

Coordinates are ICT's own: +Y up, +Z towards the viewer, units of about a centimetre.

Parsing all files takes tens of seconds, so :func:`load_ict` keeps a compact ``.npz`` (float32
deltas of the region only, ~17 MB) in :func:`facerecon.paths.cache_dir`, keyed by the names,
sizes and modification times of the source files.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from facerecon.atomic import atomic_path
from facerecon.errors import DataNotFoundError, InvalidInputError
from facerecon.morphable.obj_text import (
    parse_faces,
    parse_uvs,
    parse_vertices,
    read_obj_bytes,
    triangulate,
)
from facerecon.paths import cache_dir

FACE_REGION_VERTICES = 9409  # "Full face area" [0:9408] in ICT's README
FACE_REGION_POLYGONS = 9230  # [0:9229]
IDENTITY_COUNT = 100
NEUTRAL_NAME = "generic_neutral_mesh"
_CACHE_FORMAT = "ict-region-v1"
_JAWLINE_TITLES = {
    "right": "Right jawline",
    "left": "Left jawline",
    "right_extended": "Right extended jawline",
    "left_extended": "Left extended jawline",
}


@dataclass(frozen=True)
class IctModel:
    """The ICT-FaceKit face region as a linear morphable model.

    Attributes (V = 9409 region vertices, T region triangles, U region ``vt`` entries):
        neutral: (V, 3) float32 neutral face, ICT frame (+Y up, +Z to the viewer).
        identity_deltas: (100, V, 3) float32 ``identity_i - neutral``.
        expression_deltas: (53, V, 3) float32 ``expr_j - neutral``.
        expression_names: the 53 expression names, in weight order.
        triangles: (T, 3) int32 region triangles (ICT's quads split along corner 0-2), OBJ
            winding (counter-clockwise seen from the front).
        triangle_uvs: (T, 3) int32 index into ``uvs`` of every triangle corner; a vertex on a
            UV seam has several ``vt`` entries.
        triangle_polygon: (T,) int32 the ICT polygon (0..9229) each triangle comes from.
        uvs: (U, 2) float32 ICT texture coordinates (u right, v up, OBJ convention) used by
            the region, renumbered densely.
        landmark_indices: (68,) int32 region vertex of each iBUG 68-point landmark.
        jawlines: ICT's alternative jaw contours (keys "right", "left", "right_extended",
            "left_extended"; (k,) int32 vertex indices), read from vertex_indices.json when it
            has them, else from the README.md beside the FaceXModel folder; empty if neither.
        source_key: hash of the source files the arrays were read from.
    """

    neutral: np.ndarray
    identity_deltas: np.ndarray
    expression_deltas: np.ndarray
    expression_names: tuple[str, ...]
    triangles: np.ndarray
    triangle_uvs: np.ndarray
    triangle_polygon: np.ndarray
    uvs: np.ndarray
    landmark_indices: np.ndarray
    jawlines: dict[str, np.ndarray] = field(default_factory=dict)
    source_key: str = ""

    @property
    def vertex_count(self) -> int:
        return int(self.neutral.shape[0])

    def shape(self, identity_weights=None, expression_weights=None) -> np.ndarray:
        """Return the face for the given weights as a new (V, 3) float32 array (ICT frame).

        Args:
            identity_weights: (k,) with k <= 100, usually N(0, 1); missing ones are 0.
            expression_weights: (k,) with k <= 53, each in [0, 1]; missing ones are 0.
        """
        identity = _weights(identity_weights, self.identity_deltas.shape[0], "identity_weights")
        expression = _weights(expression_weights, self.expression_deltas.shape[0],
                              "expression_weights")
        if np.any(expression < 0) or np.any(expression > 1):
            raise InvalidInputError("expression_weights must lie in [0, 1]")
        result = self.neutral.astype(np.float64)
        for weights, deltas in ((identity, self.identity_deltas),
                                (expression, self.expression_deltas)):
            used = np.flatnonzero(weights)
            if used.size:
                result += np.tensordot(weights[used], deltas[used], axes=1)
        return result.astype(np.float32)


def _weights(values, size: int, name: str) -> np.ndarray:
    if values is None:
        return np.zeros(size)
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1 or array.size > size:
        raise InvalidInputError(f"{name} must have shape (k,) with k <= {size}, got {array.shape}")
    if not np.all(np.isfinite(array)):
        raise InvalidInputError(f"{name} holds NaN or infinite values")
    return np.pad(array, (0, size - array.size))


def _model_folder(path: str | Path) -> Path:
    folder = Path(path)
    if (folder / "FaceXModel").is_dir():
        folder = folder / "FaceXModel"
    if not (folder / "vertex_indices.json").is_file():
        raise DataNotFoundError(f"{folder} is not an ICT-FaceKit FaceXModel folder "
                                "(no vertex_indices.json)")
    return folder


def _obj_file(folder: Path, name: str) -> Path:
    for candidate in (folder / f"{name}.obj", folder / f"{name}.obj.xz"):
        if candidate.is_file():
            return candidate
    raise DataNotFoundError(f"{folder}: missing {name}.obj (or {name}.obj.xz)")


def _read_jawlines(indices: dict, readme: Path) -> dict[str, np.ndarray]:
    found = {key: indices[key] for key in _JAWLINE_TITLES if isinstance(indices.get(key), list)}
    if not found and readme.is_file():
        text = readme.read_text(encoding="utf-8", errors="replace")
        for key, title in _JAWLINE_TITLES.items():
            match = re.search(rf"^{title} \([^)]*\):\s*\n\s*([0-9][0-9, ]*)", text, re.MULTILINE)
            if match:
                found[key] = [int(item) for item in match.group(1).replace(",", " ").split()]
    return {key: np.asarray(value, dtype=np.int32) for key, value in found.items()}


def _source_files(folder: Path) -> tuple[dict, list[str], list[Path]]:
    indices = json.loads((folder / "vertex_indices.json").read_text(encoding="utf-8"))
    names = [str(name) for name in indices.get("expressions", [])]
    if len(names) == 0 or "idx_to_landmark_verts" not in indices:
        raise DataNotFoundError(f"{folder}/vertex_indices.json lacks expressions or landmarks")
    files = [_obj_file(folder, NEUTRAL_NAME)]
    files += [_obj_file(folder, f"identity{k:03d}") for k in range(IDENTITY_COUNT)]
    files += [_obj_file(folder, name) for name in names]
    return indices, names, files


def _cache_key(folder: Path, files: list[Path]) -> str:
    digest = hashlib.sha256(_CACHE_FORMAT.encode())
    readme = folder.parent / "README.md"
    for path in [folder / "vertex_indices.json", readme, *files]:
        if path.is_file():
            stat = path.stat()
            digest.update(f"{path.name}:{stat.st_size}:{stat.st_mtime_ns};".encode())
    return digest.hexdigest()[:20]


def _parse_model(folder: Path, indices: dict, names: list[str], files: list[Path]) -> dict:
    neutral_text = read_obj_bytes(files[0])
    neutral = parse_vertices(neutral_text, files[0])
    vertex_index, uv_index, face_start = parse_faces(neutral_text, files[0])
    triangles, triangle_uvs, polygon = triangulate(vertex_index, uv_index, face_start,
                                                   slice(0, FACE_REGION_POLYGONS))
    if triangles.max() >= min(FACE_REGION_VERTICES, neutral.shape[0]):
        raise DataNotFoundError(f"{files[0]}: face region polygons use vertices beyond "
                                f"{FACE_REGION_VERTICES}; not the ICT Face Model Light topology")
    used_uvs, dense_uv = np.unique(triangle_uvs, return_inverse=True)
    # A mesh smaller than ICT's (the tests' synthetic folders) is taken whole.
    region_size = min(FACE_REGION_VERTICES, neutral.shape[0])
    region = slice(0, region_size)
    deltas = np.empty((len(files) - 1, region_size, 3), dtype=np.float32)
    for k, path in enumerate(files[1:]):
        target = parse_vertices(read_obj_bytes(path), path)
        if target.shape != neutral.shape:
            raise DataNotFoundError(f"{path}: {target.shape[0]} vertices, the neutral mesh has "
                                    f"{neutral.shape[0]}")
        deltas[k] = target[region] - neutral[region]
    landmarks = np.asarray(indices["idx_to_landmark_verts"], dtype=np.int32)
    if landmarks.shape != (68,) or landmarks.min() < 0 or landmarks.max() >= region_size:
        raise DataNotFoundError("vertex_indices.json: expected 68 landmarks in the face region")
    arrays = {
        "neutral": neutral[region].astype(np.float32),
        "identity_deltas": deltas[:IDENTITY_COUNT],
        "expression_deltas": deltas[IDENTITY_COUNT:],
        "expression_names": np.array(names),
        "triangles": triangles.astype(np.int32),
        "triangle_uvs": dense_uv.reshape(triangle_uvs.shape).astype(np.int32),
        "triangle_polygon": polygon.astype(np.int32),
        "uvs": parse_uvs(neutral_text, files[0])[used_uvs].astype(np.float32),
        "landmark_indices": landmarks,
    }
    for key, value in _read_jawlines(indices, folder.parent / "README.md").items():
        arrays[f"jawline_{key}"] = value
    return arrays


def load_ict(path: str | Path, use_cache: bool = True) -> IctModel:
    """Load the ICT-FaceKit face region from a FaceXModel folder (or its parent).

    The first call parses the OBJ files and writes ``ict_<key>.npz`` to the user cache; later
    calls with unchanged files read that. ``use_cache=False`` parses and writes nothing.

    Raises:
        DataNotFoundError: the folder or one of the 154 files it needs is missing or malformed.
    """
    folder = _model_folder(path)
    indices, names, files = _source_files(folder)
    key = _cache_key(folder, files)
    cached = cache_dir() / f"ict_{key}.npz" if use_cache else None
    arrays = None
    if cached is not None and cached.is_file():
        try:
            with np.load(cached, allow_pickle=False) as stored:
                arrays = {name: stored[name] for name in stored.files}
        except (OSError, ValueError):
            arrays = None  # a damaged cache file is rebuilt below
    if arrays is None:
        arrays = _parse_model(folder, indices, names, files)
        if cached is not None:
            with atomic_path(cached) as tmp:
                np.savez(tmp, **arrays)
    jawlines = {name[len("jawline_"):]: arrays.pop(name)
                for name in list(arrays) if name.startswith("jawline_")}
    arrays["expression_names"] = tuple(str(name) for name in arrays["expression_names"])
    model = IctModel(**arrays, jawlines=jawlines, source_key=key)
    for array in (model.neutral, model.identity_deltas, model.expression_deltas, model.triangles,
                  model.triangle_uvs, model.triangle_polygon, model.uvs, model.landmark_indices,
                  *jawlines.values()):
        array.setflags(write=False)
    return model
