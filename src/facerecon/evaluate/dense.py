"""Dense error on held-out synthetic ICT-FaceKit faces, where the whole surface is known.

Cases: case i draws from ``numpy.random.default_rng([seed, i])`` (default
:data:`DENSE_SEED`; the data build never draws random ICT faces, its randomness comes from
``(build seed, photo id)``, so these faces are held out by construction):

- identity weights ~ N(0, 1) for all 100 ICT modes; 4 of the 53 expressions, each U(0, 0.8);
- yaw U(-70, 70), pitch U(-25, 25), roll U(-25, 25) degrees;
- face width (68-point box) U(90, 150) px in a 256 x 256 photo, centre within 10 px of
  the image centre; rendered by :func:`facerecon.data.synthetic.render_synthetic_face`.

Each face is reconstructed from the box of its true 68 landmarks (the "landmarks" crop).
Errors, over the valid pixels of the UV map, against the true surface encoded in the same
UV layout (no alignment: pose, scale and position are part of the task):

- ``dense_3d``: mean 3D distance / the true 3D outer inter-ocular distance (points 36, 45),
  after shifting each surface's z by its own mean (an orthographic photo fixes no depth
  origin; the shift is the only freedom removed);
- ``dense_2d``: the same with x, y only (no shift at all);
- ``landmarks_2d``: the 68 landmarks' mean 2D error / the same distance;
- ``normal_error_deg`` (degrees, not a fraction; kept apart): the mean angle between the
  predicted and true facet normals of the UV grid (:mod:`facerecon.evaluate.surface`), what
  a rough or ridged surface costs in shading while hardly moving a vertex.

Summaries are per |yaw| bin, as for AFLW2000-3D (:func:`~facerecon.evaluate.metrics.binned_errors`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from facerecon.errors import InvalidInputError
from facerecon.evaluate.metrics import OUTER_EYE_CORNERS, BinnedError, binned_errors
from facerecon.evaluate.surface import normal_error_deg
from facerecon.posmap import encode

#: Base seed of the held-out synthetic faces.
DENSE_SEED = 905_2026
IMAGE_SIZE = (256, 256)
EXPRESSIONS_PER_FACE = 4


@dataclass(frozen=True)
class DenseCase:
    """One held-out synthetic face: shape weights, pose (degrees), size and place."""

    identity: np.ndarray
    expression: np.ndarray
    yaw: float
    pitch: float
    roll: float
    face_width: float
    position: tuple[float, float]


def dense_cases(count: int, seed: int = DENSE_SEED, identity_modes: int = 100,
                expression_count: int = 53) -> list[DenseCase]:
    """The first ``count`` cases of the held-out set (case i depends only on (seed, i))."""
    if count < 1:
        raise InvalidInputError(f"count must be >= 1, got {count}")
    cases = []
    for index in range(count):
        rng = np.random.default_rng([seed, index])
        expression = np.zeros(expression_count)
        chosen = rng.choice(expression_count, EXPRESSIONS_PER_FACE, replace=False)
        expression[chosen] = rng.uniform(0.0, 0.8, EXPRESSIONS_PER_FACE)
        yaw, pitch, roll = rng.uniform([-70, -25, -25], [70, 25, 25])
        offset = rng.uniform(-10, 10, 2)
        cases.append(DenseCase(
            identity=rng.standard_normal(identity_modes),
            expression=expression,
            yaw=float(yaw), pitch=float(pitch), roll=float(roll),
            face_width=float(rng.uniform(90, 150)),
            position=(IMAGE_SIZE[1] / 2 + offset[0], IMAGE_SIZE[0] / 2 + offset[1]),
        ))
    return cases


def render_case(case: DenseCase, ict, topology, seed: int = 0):
    """Render ``case`` with the ICT model.

    Returns:
        a :class:`~facerecon.data.synthetic.SyntheticFace` (image, true vertices, box).
    """
    from facerecon.data.synthetic import render_synthetic_face
    from facerecon.topology.build import to_image_frame

    canonical = to_image_frame(ict.shape(case.identity, case.expression))
    return render_synthetic_face(
        topology, canonical, yaw=case.yaw, pitch=case.pitch, roll=case.roll,
        image_size=IMAGE_SIZE, face_width=case.face_width, position=case.position, seed=seed,
    )


@dataclass(frozen=True)
class DenseResult:
    """Per-face errors (fractions) and their |yaw|-binned summaries; per-face normal errors
    in degrees."""

    yaw: np.ndarray
    per_image: dict[str, np.ndarray]
    summary: dict[str, BinnedError]
    seed: int
    normal_error_deg: np.ndarray

    def as_dict(self) -> dict:
        return {
            "protocol": "held-out synthetic ICT faces; mean vertex error over the UV map / "
                        "true 3D outer inter-ocular distance; no alignment (dense_3d: each "
                        "surface's z shifted by its mean)",
            "seed": self.seed,
            "num_images": int(len(self.yaw)),
            "tables": {key: value.as_dict() for key, value in self.summary.items()},
            "per_image_percent": {key: (errors * 100).tolist()
                                  for key, errors in self.per_image.items()},
            "normal_error_deg": {"mean": round(float(self.normal_error_deg.mean()), 3),
                                 "per_image": self.normal_error_deg.round(3).tolist()},
        }


def dense_errors(pred_posmap: np.ndarray, true_vertices: np.ndarray, topology) -> dict:
    """Errors of one image-space (R, R, 3) position map against the true region vertices.

    Returns ``{"dense_3d", "dense_2d", "landmarks_2d"}`` as fractions of the true 3D
    outer inter-ocular distance.
    """
    from facerecon.posmap import decode

    mask = topology.uv_mask
    true = encode(np.asarray(true_vertices, np.float32), topology)[mask].astype(np.float64)
    pred = np.asarray(pred_posmap, np.float64)[mask]
    marks = np.asarray(true_vertices, np.float64)[topology.landmark_vertices]
    inter_ocular = float(np.linalg.norm(marks[OUTER_EYE_CORNERS[0]] - marks[OUTER_EYE_CORNERS[1]]))
    centred_true, centred_pred = true.copy(), pred.copy()
    centred_true[:, 2] -= true[:, 2].mean()
    centred_pred[:, 2] -= pred[:, 2].mean()
    pred_marks = decode(np.asarray(pred_posmap, np.float32), topology).landmarks
    def mean_distance(a: np.ndarray, b: np.ndarray) -> float:
        return float(np.linalg.norm(a - b, axis=1).mean() / inter_ocular)

    return {
        "dense_3d": mean_distance(centred_pred, centred_true),
        "dense_2d": mean_distance(pred[:, :2], true[:, :2]),
        "landmarks_2d": mean_distance(pred_marks[:, :2], marks[:, :2]),
    }


def evaluate_dense(reconstructor, ict, count: int = 100, seed: int = DENSE_SEED) -> DenseResult:
    """Render ``count`` held-out faces, reconstruct each from its landmark box, score them.

    Args:
        reconstructor: a :class:`~facerecon.api.FaceReconstructor` (any PosmapPredictor).
        ict: the :class:`~facerecon.morphable.ict.IctModel` the faces are drawn from.
    """
    topology = reconstructor.topology
    errors: dict[str, list[float]] = {"dense_3d": [], "dense_2d": [], "landmarks_2d": []}
    yaws, normals = [], []
    for index, case in enumerate(dense_cases(count, seed, ict.identity_deltas.shape[0],
                                             ict.expression_deltas.shape[0])):
        face = render_case(case, ict, topology, seed=index)
        (result,) = reconstructor(face.image, boxes=face.box[None], box_source="landmarks")
        for key, value in dense_errors(result.posmap, face.vertices, topology).items():
            errors[key].append(value)
        true_posmap = encode(np.asarray(face.vertices, np.float32), topology)
        normals.append(normal_error_deg(result.posmap, true_posmap, topology.uv_mask))
        yaws.append(case.yaw)
    yaw = np.asarray(yaws)
    per_image = {key: np.asarray(values) for key, values in errors.items()}
    summary = {key: binned_errors(values, yaw) for key, values in per_image.items()}
    return DenseResult(yaw, per_image, summary, seed, np.asarray(normals))
