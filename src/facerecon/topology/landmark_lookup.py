"""How :func:`facerecon.posmap.decode` reads the 68 landmarks from a position map.

A landmark is a fixed linear combination of the position-map pixels around its UV position
``landmark_uv``: 12 pixels, the 2x2 cell holding ``landmark_uv`` plus the two pixels beyond
each side of it (:data:`LOOKUP_OFFSETS`); pixels off the mask get weight 0, and the weights
sum to 1 (so the lookup commutes with translations and rotations of the face).

Plain bilinear interpolation of the 2x2 cell is the starting point (:func:`bilinear_lookup`),
but near sharp folds, above all the outer eye corners where the skin turns into the eye
opening within a pixel, it misses ICT's landmark vertex by up to ~1.4 px at 256. So
:func:`fit_lookup` adjusts the weights by ridge-regularised least squares towards the exact
landmark vertices of random ICT faces in random orientations, staying close to bilinear.
"""

from __future__ import annotations

import numpy as np

from facerecon.errors import InvalidInputError

# (dcol, drow) from the top-left pixel of the cell holding landmark_uv; the first four are the
# bilinear cell.
LOOKUP_OFFSETS = np.array([(0, 0), (1, 0), (0, 1), (1, 1), (-1, 0), (2, 0), (-1, 1), (2, 1),
                           (0, -1), (1, -1), (0, 2), (1, 2)])
FIT_FACES = 80
FIT_RIDGE = 1e-2  # measured: 1e-3 fits a little closer but lets sum(|w|) reach 3.0


def bilinear_lookup(uv_mask: np.ndarray, landmark_uv: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Bilinear weights on the lookup pixels, restricted to valid pixels.

    Returns:
        index: (68, 12) int64 flat pixel indices (clipped to the map; invalid ones weigh 0);
        weight: (68, 12) float64, bilinear on the first four, renormalised over the valid
            ones, 0 elsewhere.

    Raises:
        InvalidInputError: a landmark's 2x2 cell holds no valid pixel.
    """
    resolution = uv_mask.shape[0]
    base = np.floor(landmark_uv).astype(np.int64)
    frac = landmark_uv - base
    cols = np.clip(base[:, None, 0] + LOOKUP_OFFSETS[:, 0], 0, resolution - 1)
    rows = np.clip(base[:, None, 1] + LOOKUP_OFFSETS[:, 1], 0, resolution - 1)
    weight = np.zeros(cols.shape)
    cell = LOOKUP_OFFSETS[:4]
    weight[:, :4] = (np.where(cell[:, 0], frac[:, None, 0], 1 - frac[:, None, 0])
                     * np.where(cell[:, 1], frac[:, None, 1], 1 - frac[:, None, 1]))
    weight *= uv_mask[rows, cols]
    total = weight.sum(axis=1, keepdims=True)
    if np.any(total <= 0):
        raise InvalidInputError("a landmark has no valid UV pixel in its cell")
    return rows * resolution + cols, weight / total


def _random_rotations(rng: np.random.Generator, count: int) -> np.ndarray:
    """Rz(roll) @ Ry(yaw) @ Rx(pitch), yaw U[-90, 90], pitch U[-35, 35], roll U[-40, 40]."""
    yaw, pitch, roll = (np.radians(rng.uniform(-limit, limit, count)) for limit in (90, 35, 40))
    c, s = np.cos, np.sin
    one, zero = np.ones(count), np.zeros(count)
    rx = np.stack([one, zero, zero, zero, c(pitch), -s(pitch), zero, s(pitch), c(pitch)], -1)
    ry = np.stack([c(yaw), zero, s(yaw), zero, one, zero, -s(yaw), zero, c(yaw)], -1)
    rz = np.stack([c(roll), -s(roll), zero, s(roll), c(roll), zero, zero, zero, one], -1)
    return rz.reshape(-1, 3, 3) @ ry.reshape(-1, 3, 3) @ rx.reshape(-1, 3, 3)


def fit_lookup(model, index: np.ndarray, prior: np.ndarray, pixel_vertex_ids: np.ndarray,
               pixel_barycentric: np.ndarray, scale: float, seed: int = 0) -> np.ndarray:
    """Fit lookup weights that decode ICT's landmark vertices closely.

    For each landmark, minimise over weights w with sum(w) = 1 and w = 0 off the mask
    ``sum_faces |sum_k w_k p_k - v_L|^2 + FIT_RIDGE * FIT_FACES * |w - prior|^2``, where p_k
    are the surface points of the lookup pixels and v_L the landmark vertex of
    :data:`FIT_FACES` random faces (identity N(0,1), expression U[0,1]; image frame, ``scale``
    pixels per ICT unit, random rotation).

    Args:
        model: the ICT face region.
        index, prior: (68, 12) from :func:`bilinear_lookup`.
        pixel_vertex_ids: (68, 12, 3) region vertices of each lookup pixel's triangle.
        pixel_barycentric: (68, 12, 3) its weights; all 0 for pixels off the mask.
        scale: crop pixels per ICT unit (that of the canonical face).
        seed: random seed; the fit is deterministic for a given seed.

    Returns:
        (68, 12) float64 weights.
    """
    rng = np.random.default_rng(seed)
    rotations = _random_rotations(rng, FIT_FACES)
    points, targets = [], []
    for rotation in rotations:
        face = model.shape(rng.normal(size=model.identity_deltas.shape[0]),
                           rng.uniform(size=model.expression_deltas.shape[0]))
        face = (scale * face.astype(np.float64) * np.array([1.0, -1.0, 1.0])) @ rotation.T
        points.append(np.einsum("lkjc,lkj->lkc", face[pixel_vertex_ids], pixel_barycentric))
        targets.append(face[model.landmark_indices])
    points, targets = np.stack(points), np.stack(targets)  # (F, 68, 12, 3), (F, 68, 3)
    valid = pixel_barycentric.sum(axis=2) > 0
    weights = np.zeros(index.shape)
    for landmark in range(index.shape[0]):
        used = np.flatnonzero(valid[landmark])
        start = prior[landmark, used]
        if used.size == 1:
            weights[landmark, used] = 1.0
            continue
        # Orthonormal basis of {d : sum(d) = 0}: weights move only within sum(w) = 1.
        basis = np.linalg.qr(np.column_stack([np.ones(used.size),
                                              np.eye(used.size)[:, :-1]]))[0][:, 1:]
        samples = points[:, landmark, used]  # (F, k, 3)
        design = np.einsum("fkc,kj->fcj", samples, basis).reshape(-1, used.size - 1)
        residual = (targets[:, landmark] - np.einsum("fkc,k->fc", samples, start)).reshape(-1)
        normal = design.T @ design + FIT_RIDGE * FIT_FACES * np.eye(used.size - 1)
        weights[landmark, used] = start + basis @ np.linalg.solve(normal, design.T @ residual)
    return weights
