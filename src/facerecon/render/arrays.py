"""Input checks shared by the render kernels: validate, and hand numba arrays without copies.

Each returns a C-contiguous array the caller's data is only *read* from: an input that
already has a kernel-friendly dtype (float32/float64 values, int32/int64 indices) and layout
is passed through as is, which saves a copy per call (and, on large arrays, the page faults
of a fresh allocation); anything else is converted to a new array.
"""

from __future__ import annotations

import numpy as np

from facerecon.errors import InvalidInputError

__all__ = ["real_rows", "triangle_rows"]


def real_rows(value, name: str, columns: int | None, rows: int | None = None) -> np.ndarray:
    """(rows, columns) finite real array as float32 or float64 (integers become float64).

    ``columns=None`` accepts any positive column count; ``rows=None`` any row count.
    """
    array = np.asarray(value)
    if array.dtype.kind not in "fiu":
        raise InvalidInputError(f"{name} must hold real numbers, got dtype {array.dtype}")
    if (
        array.ndim != 2
        or (columns is not None and array.shape[1] != columns)
        or (columns is None and array.shape[1] < 1)
        or (rows is not None and array.shape[0] != rows)
    ):
        expected = f"({'n' if rows is None else rows}, {columns or 'channels'})"
        raise InvalidInputError(f"{name} must have shape {expected}, got {array.shape}")
    if array.dtype not in (np.float32, np.float64):
        array = array.astype(np.float64)
    if array.dtype.kind == "f" and not np.all(np.isfinite(array)):
        raise InvalidInputError(f"{name} holds NaN or infinite values")
    return np.ascontiguousarray(array)


def triangle_rows(triangles, n_vertices: int) -> np.ndarray:
    """(M, 3) int32 or int64 vertex indices, all in [0, n_vertices)."""
    array = np.asarray(triangles)
    if array.dtype.kind not in "iu":
        raise InvalidInputError(f"triangles must be integers, got dtype {array.dtype}")
    if array.ndim != 2 or array.shape[1] != 3:
        raise InvalidInputError(f"triangles must have shape (m, 3), got {array.shape}")
    if array.size and (array.min() < 0 or array.max() >= n_vertices):
        raise InvalidInputError(f"triangles index vertices outside [0, {n_vertices})")
    if array.dtype not in (np.int32, np.int64):
        array = array.astype(np.int64)
    return np.ascontiguousarray(array)
