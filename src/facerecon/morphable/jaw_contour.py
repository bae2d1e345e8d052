"""Silhouette candidates for the 2D jaw landmarks ("landmark marching", as in 300W-LP/3DDFA).

Human annotators put the 17 jaw points (iBUG 0-16) on the *visible outline* of the face, not
on fixed points of the skin: when the head turns, the far-side points slide onto the cheek's
occluding contour and the near-side points onto the jaw's back edge. A 2D fit therefore lets
each jaw landmark (except the chin, 8) choose its vertex, per iteration, from a short chain of
candidates (a "parallel") crossing the outline.

ICT-FaceKit gives two outlines per side: the frontal contour (its landmark vertices 0-7 and
9-16) and the profile jawline (``IctModel.jawlines["right"|"left"]``, 8 vertices each, which
"substitute 0-7" and "9-16"). The parallel of jaw landmark ``k`` is the mesh path (shortest
along edges of the neutral face) from the profile vertex to the frontal vertex, continued
inwards to the front-surface vertex at the same height and ``inner_fraction`` of the way to
the face's midline (so that the far side can slide onto the cheek at large yaw).

Selection (:func:`select_silhouette`): rotate the current fitted candidates by the head
pose without its roll (``Ry(yaw) @ Rx(pitch)``, image axes), and take the candidate with the
smallest x for the subject's right side (landmarks 0-7, image left in a frontal view) and the
largest x for the left side (9-16): the extreme point of a chain across the outline is the
outline point, and an outline point is always visible.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import dijkstra

from facerecon.errors import DataNotFoundError

RIGHT_JAW = np.arange(0, 8)  # the subject's right: image left in a frontal view
LEFT_JAW = np.arange(9, 17)
# Inner end of a parallel: this fraction of the contour vertex's distance to the midline.
INNER_FRACTION = 0.5


@dataclass(frozen=True, eq=False)
class JawContours:
    """Candidate vertices of the 16 marching jaw landmarks (all but the chin, 8).

    Attributes (C = total number of candidates):
        landmarks: (16,) int64 iBUG landmark numbers, 0-7 then 9-16.
        outward: (16,) float64, -1 where the outline is at smaller rotated x (right side),
            +1 where it is at larger x (left side).
        vertices: (C,) int64 region vertex index of every candidate, grouped by landmark.
        starts: (16,) int64 offset of each landmark's group in ``vertices`` (for
            ``np.minimum.reduceat``).
    """

    landmarks: np.ndarray
    outward: np.ndarray
    vertices: np.ndarray
    starts: np.ndarray


def _edge_graph(vertices: np.ndarray, triangles: np.ndarray):
    edges = np.concatenate([triangles[:, [0, 1]], triangles[:, [1, 2]], triangles[:, [2, 0]]])
    lengths = np.linalg.norm(vertices[edges[:, 0]] - vertices[edges[:, 1]], axis=1)
    size = len(vertices)
    graph = coo_matrix((lengths, (edges[:, 0], edges[:, 1])), shape=(size, size)).tocsr()
    return graph.maximum(graph.T)


def _path(predecessors: np.ndarray, start: int, end: int) -> list[int]:
    """Vertices from ``start`` to ``end`` given the predecessor row of a search from start."""
    chain = [end]
    while chain[-1] != start:
        previous = int(predecessors[chain[-1]])
        if previous < 0:
            raise DataNotFoundError(f"ICT mesh: vertex {end} is not connected to {start}")
        chain.append(previous)
    return chain[::-1]


def _inner_vertex(vertices: np.ndarray, contour: int) -> int:
    """The front-surface vertex at the contour vertex's height, part of the way inwards."""
    x, y, z = vertices[contour]
    target = np.array([INNER_FRACTION * x, y])
    in_front = np.flatnonzero(vertices[:, 2] > z)
    distance = np.linalg.norm(vertices[in_front, :2] - target, axis=1)
    return int(in_front[np.argmin(distance)])


def build_jaw_contours(neutral: np.ndarray, triangles: np.ndarray,
                       landmark_indices: np.ndarray,
                       jawlines: dict[str, np.ndarray]) -> JawContours:
    """Candidate chains for the marching jaw landmarks, from the neutral ICT face.

    Args:
        neutral: (V, 3) neutral face in ICT's frame (+Y up, +Z to the viewer).
        triangles: (T, 3) region triangles (for the mesh paths).
        landmark_indices: (68,) region vertex of each iBUG landmark.
        jawlines: ``IctModel.jawlines``; needs "right" and "left" (8 vertices each).

    Raises:
        DataNotFoundError: the jawlines are missing or malformed.
    """
    for key in ("right", "left"):
        if np.asarray(jawlines.get(key, [])).shape != (8,):
            raise DataNotFoundError(f"ICT jawline '{key}' with 8 vertices is needed for 2D "
                                    "silhouette fitting (vertex_indices.json or README.md)")
    vertices = np.asarray(neutral, dtype=np.float64)
    graph = _edge_graph(vertices, np.asarray(triangles))
    landmarks = np.concatenate([RIGHT_JAW, LEFT_JAW])
    profile = np.concatenate([jawlines["right"], jawlines["left"]]).astype(np.int64)
    frontal = np.asarray(landmark_indices, dtype=np.int64)[landmarks]
    inner = [_inner_vertex(vertices, int(vertex)) for vertex in frontal]
    _, predecessors = dijkstra(graph, indices=frontal, return_predecessors=True)
    groups = []
    for row, (front, back, inside) in enumerate(zip(frontal, profile, inner, strict=True)):
        outer_part = _path(predecessors[row], int(front), int(back))[::-1]  # back -> front
        inner_part = _path(predecessors[row], int(front), inside)[1:]  # after front -> inside
        groups.append(list(dict.fromkeys(outer_part + inner_part)))
    sizes = np.array([len(group) for group in groups])
    return JawContours(
        landmarks=landmarks,
        outward=np.where(landmarks < 8, -1.0, 1.0),
        vertices=np.concatenate(groups).astype(np.int64),
        starts=np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64),
    )


def select_silhouette(contours: JawContours, rotated_x: np.ndarray) -> np.ndarray:
    """Index into ``contours.vertices`` of the outline candidate of each marching landmark.

    Args:
        contours: the candidate chains.
        rotated_x: (C,) x of every candidate after the roll-free head rotation
            (``Ry(yaw) @ Rx(pitch)`` applied to the canonical, image-axes face).

    Returns:
        (16,) int64 positions in ``contours.vertices`` (the most outward candidate of each
        chain; ties go to the first, i.e. the profile end).
    """
    group = np.repeat(np.arange(len(contours.starts)),
                      np.diff(np.append(contours.starts, len(contours.vertices))))
    inward = -contours.outward[group] * rotated_x  # smallest = most outward
    best = np.minimum.reduceat(inward, contours.starts)
    is_best = inward <= best[group]
    # first candidate per group that attains its minimum
    positions = np.flatnonzero(is_best)
    first = np.unique(group[positions], return_index=True)[1]
    return positions[first]
