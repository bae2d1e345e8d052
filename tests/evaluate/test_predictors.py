"""The pipeline as a landmark predictor: boxes framed by their source's crop entry."""

import numpy as np
import pytest

from facerecon.crop import BOX_CROP_PARAMS, crop_from_box
from facerecon.data.synthetic import GroundTruthPredictor, render_synthetic_face
from facerecon.data.teacher import roi_from_box
from facerecon.errors import InvalidInputError
from facerecon.evaluate.predictors import make_reconstructor, pipeline_predictor
from facerecon.topology import load_topology


@pytest.fixture(scope="module")
def scene():
    topology = load_topology(128)
    face = render_synthetic_face(topology, yaw=25.0, pitch=-5.0, roll=8.0, image_size=(300, 300),
                                 face_width=120.0)
    oracle = GroundTruthPredictor(topology, [face.vertices], input_size=128)
    return face, make_reconstructor(oracle)


def test_roi_boxes_use_their_own_crop_entry(scene):
    face, reconstructor = scene
    roi = roi_from_box(face.box, "landmarks")  # how AFLW2000-3D's ROI boxes are made
    (result,) = reconstructor(face.image, boxes=roi[None], box_source="aflw_roi")
    params = BOX_CROP_PARAMS["aflw_roi"]
    expected = crop_from_box(roi, 128, params.scale, params.center_shift)
    np.testing.assert_allclose(result.crop.matrix, expected.matrix)
    (given,) = reconstructor(face.image, boxes=roi[None])  # default: tight "given" boxes
    assert given.crop.scale < 0.75 * result.crop.scale
    with pytest.raises(InvalidInputError, match="no crop parameters"):
        reconstructor(face.image, boxes=roi[None], box_source="nonsense")


def test_pipeline_predictor_returns_image_landmarks(scene):
    face, reconstructor = scene
    predict = pipeline_predictor(reconstructor, "aflw_roi")
    rois = np.stack([roi_from_box(face.box, "landmarks")] * 2)
    points = predict([face.image, face.image], rois)
    assert points.shape == (2, 68, 3) and points.dtype == np.float32
    assert np.abs(points[..., :2] - face.landmarks[:, :2]).max() < 0.5
