"""Every image-based backend in the registry: real face found, blank image empty, validation,
options, and that the caller's image is left untouched."""

from __future__ import annotations

import numpy as np
import pytest
from shared_data import require_shared

from facerecon.detection import FaceDetector, create_detector, list_detectors
from facerecon.errors import DataNotFoundError, InvalidInputError, MissingDependencyError

IMAGE_BACKENDS = [name for name in list_detectors() if name != "given"]
FACE = "300w/helen-train/100032540_1"


def make(name: str, **options) -> FaceDetector:
    try:
        return create_detector(name, **options)
    except MissingDependencyError as error:
        pytest.skip(f"{name} is an optional extra that is not installed here: {error}")


@pytest.fixture(scope="module")
def face_photo() -> tuple[np.ndarray, np.ndarray]:
    """A real 300-W crop (RGB) and its 68-landmark box."""
    import cv2

    stem = require_shared(FACE + ".jpg").with_suffix("")
    image = np.ascontiguousarray(cv2.imread(f"{stem}.jpg", cv2.IMREAD_COLOR)[:, :, ::-1])
    points = np.loadtxt(f"{stem}.pts").reshape(68, 2)
    return image, np.concatenate([points.min(axis=0), points.max(axis=0)])


def iou(a: np.ndarray, b: np.ndarray) -> float:
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    inter = max(width, 0) * max(height, 0)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union


def test_builtin_backends_are_registered():
    assert {"dlib_hog", "opencv_haar", "mediapipe", "given"} <= set(list_detectors())


@pytest.mark.parametrize("name", IMAGE_BACKENDS)
def test_finds_the_annotated_face(name, face_photo):
    image, landmark_box = face_photo
    detector = make(name)
    assert isinstance(detector, FaceDetector)
    detections = detector.detect(image)
    assert detections, f"{name} found no face"
    assert max(iou(d.box, landmark_box) for d in detections) >= 0.4
    scores = [d.score for d in detections]
    assert scores == sorted(scores, reverse=True)
    assert all(d.box.dtype == np.float32 and d.box.shape == (4,) for d in detections)


@pytest.mark.parametrize("name", IMAGE_BACKENDS)
def test_grayscale_photo_as_rgb(name, face_photo):
    image, landmark_box = face_photo
    gray = image.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    gray_rgb = np.repeat(np.round(gray).astype(np.uint8)[:, :, None], 3, axis=2)
    detections = make(name).detect(gray_rgb)
    assert max(iou(d.box, landmark_box) for d in detections) >= 0.4


@pytest.mark.parametrize("name", IMAGE_BACKENDS)
@pytest.mark.parametrize("value", [0, 255])
def test_blank_image_has_no_face(name, value):
    assert make(name).detect(np.full((240, 320, 3), value, np.uint8)) == []


@pytest.mark.parametrize("name", IMAGE_BACKENDS)
def test_does_not_mutate_input(name, face_photo):
    image = face_photo[0].copy()
    before = image.copy()
    image.setflags(write=False)  # any in-place write would raise
    make(name).detect(image)
    np.testing.assert_array_equal(image, before)
    # a non-contiguous view (every other column) is also accepted and left as it was
    view = face_photo[0][:, ::2]
    view_before = view.copy()
    make(name).detect(view)
    np.testing.assert_array_equal(view, view_before)


@pytest.mark.parametrize("name", IMAGE_BACKENDS)
@pytest.mark.parametrize(
    "bad",
    [
        np.zeros((64, 64), np.uint8),
        np.zeros((64, 64, 4), np.uint8),
        np.zeros((64, 64, 3), np.float32),
        np.zeros((64, 64, 3), np.uint16),
        np.zeros((0, 64, 3), np.uint8),
        [[[0, 0, 0]]],
        None,
    ],
    ids=["gray2d", "rgba", "float32", "uint16", "empty", "list", "none"],
)
def test_rejects_bad_images(name, bad):
    with pytest.raises(InvalidInputError):
        make(name).detect(bad)


@pytest.mark.parametrize("name", IMAGE_BACKENDS)
def test_min_size_drops_small_boxes(name, face_photo):
    image = face_photo[0]
    assert make(name, min_size=float(max(image.shape))).detect(image) == []
    with pytest.raises(InvalidInputError):
        make(name, min_size=-1.0)


# Face widths below each detector's native window: dlib's is ~80 px, the cascade's 24 px.
@pytest.mark.parametrize(("name", "face_width"), [("dlib_hog", 40.0), ("opencv_haar", 16.0)])
def test_upsample_finds_a_small_face(name, face_width, face_photo):
    import cv2

    image, landmark_box = face_photo
    scale = face_width / (landmark_box[2] - landmark_box[0])
    small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    small_box = (landmark_box + 0.5) * scale - 0.5
    options = {"min_size": 0.0} if name == "opencv_haar" else {}
    assert all(iou(d.box, small_box) < 0.4 for d in make(name, **options).detect(small))
    found = make(name, upsample=2, **options).detect(small)
    assert max(iou(d.box, small_box) for d in found) >= 0.4
    with pytest.raises(InvalidInputError):
        make(name, upsample=-1)
    with pytest.raises(InvalidInputError):
        make(name, upsample=1.5)


@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("dlib_hog", {"threshold": "low"}),
        ("dlib_hog", {"threshold": float("nan")}),
        ("opencv_haar", {"scale_factor": 1.0}),
        ("opencv_haar", {"min_neighbors": -1}),
        ("opencv_haar", {"min_neighbors": 2.5}),
        ("opencv_haar", {"cascade": "no_such_cascade.xml"}),
        ("mediapipe", {"model": "tiny"}),
        ("mediapipe", {"min_score": 1.5}),
    ],
)
def test_rejects_bad_options(name, options):
    with pytest.raises((InvalidInputError, DataNotFoundError)):
        make(name, **options)
