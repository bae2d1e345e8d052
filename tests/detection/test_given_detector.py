"""The "given" detector: caller's boxes or landmarks through the detector protocol."""

from __future__ import annotations

import numpy as np
import pytest

from facerecon.detection import FaceDetector, create_detector
from facerecon.errors import InvalidInputError

IMAGE = np.zeros((100, 120, 3), np.uint8)


def test_from_one_box():
    detector = create_detector("given", boxes=[10, 20, 60, 80])
    assert isinstance(detector, FaceDetector)
    (detection,) = detector.detect(IMAGE)
    np.testing.assert_array_equal(detection.box, np.float32([10, 20, 60, 80]))
    assert detection.score == 1.0
    assert detection.keypoints is None


def test_several_boxes_sorted_by_score():
    boxes = np.array([[0, 0, 10, 10], [20, 20, 50, 50], [5, 5, 30, 40]], np.float64)
    detections = create_detector("given", boxes=boxes, scores=[0.2, 0.9, 0.5]).detect(IMAGE)
    assert [d.score for d in detections] == [0.9, 0.5, 0.2]
    np.testing.assert_array_equal(detections[0].box, boxes[1])


def test_from_68_landmarks_box_is_their_extent(rng):
    points = rng.uniform([30, 20, -5], [90, 85, 5], size=(68, 3))
    (detection,) = create_detector("given", landmarks=points).detect(IMAGE)
    expected = [*points[:, :2].min(axis=0), *points[:, :2].max(axis=0)]
    np.testing.assert_allclose(detection.box, expected, rtol=1e-6)
    assert detection.keypoints.shape == (68, 2)
    np.testing.assert_allclose(detection.keypoints, points[:, :2], rtol=1e-6)


def test_from_5_points_and_several_sets(rng):
    sets = rng.uniform(10, 90, size=(2, 5, 2))
    detections = create_detector("given", landmarks=sets).detect(IMAGE)
    assert [d.keypoints.shape for d in detections] == [(5, 2), (5, 2)]
    np.testing.assert_allclose(detections[1].box[:2], sets[1].min(axis=0), rtol=1e-6)


def test_nested_lists_and_mixed_point_counts(rng):
    points68 = rng.uniform(10, 90, size=(68, 2))
    (single,) = create_detector("given", landmarks=points68.tolist()).detect(IMAGE)
    assert single.keypoints.shape == (68, 2)
    mixed = create_detector("given", landmarks=[points68, points68[:5]]).detect(IMAGE)
    assert [d.keypoints.shape for d in mixed] == [(68, 2), (5, 2)]


def test_caller_arrays_are_not_kept_or_changed(rng):
    points = rng.uniform(10, 90, size=(68, 2))
    before = points.copy()
    detector = create_detector("given", landmarks=points)
    points[:] = 0  # later changes by the caller must not leak into the detections
    (detection,) = detector.detect(IMAGE)
    np.testing.assert_allclose(detection.keypoints, before, rtol=1e-6)
    assert not detection.keypoints.flags.writeable


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"boxes": [0, 0, 10, 10], "landmarks": np.zeros((5, 2))},
        {"boxes": [0, 0, 10]},
        {"boxes": [10, 0, 5, 10]},
        {"boxes": [0, 0, np.nan, 10]},
        {"boxes": [[0, 0, 10, 10]], "scores": [1.0, 2.0]},
        {"landmarks": np.zeros((10, 2))},
        {"landmarks": np.zeros((5, 3))},
        {"landmarks": np.zeros((68, 2))},  # all points equal: an empty box
        {"landmarks": np.zeros(68)},
        {"landmarks": "not points"},
        {"boxes": "0,0,10,10"},
        {"boxes": [0, 0, 10, 10], "scores": ["high"]},
    ],
)
def test_bad_arguments(options):
    with pytest.raises(InvalidInputError):
        create_detector("given", **options)


def test_box_outside_the_image_and_bad_image():
    detector = create_detector("given", boxes=[200, 10, 260, 70])
    with pytest.raises(InvalidInputError, match="outside"):
        detector.detect(IMAGE)
    with pytest.raises(InvalidInputError):
        create_detector("given", boxes=[0, 0, 10, 10]).detect(np.zeros((10, 10), np.uint8))


def test_box_iou_known_values():
    import doctest

    from facerecon.detection import base, box_iou

    np.testing.assert_allclose(box_iou([0, 0, 2, 2], [[0, 0, 2, 2], [1, 1, 3, 3], [2, 0, 4, 2]]),
                               [1.0, 1 / 7, 0.0])
    assert doctest.testmod(base).failed == 0
