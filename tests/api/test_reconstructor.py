"""FaceReconstructor end to end on synthetic photos with an oracle predictor."""

import numpy as np
import pytest

from facerecon.api import FaceReconstructor
from facerecon.apps.pose import rotation_from_euler
from facerecon.data.synthetic import GroundTruthPredictor, render_synthetic_face
from facerecon.errors import InvalidInputError, WeightsError
from facerecon.topology import load_topology


@pytest.fixture(scope="module")
def topology():
    return load_topology(256)


class NoFaceDetector:
    name = "none"

    def detect(self, image):
        return []


def _angle_between(r1, r2) -> float:
    cos = (np.trace(r1.T @ r2) - 1) / 2
    return float(np.degrees(np.arccos(np.clip(cos, -1, 1))))


@pytest.mark.parametrize(
    "yaw, pitch, roll", [(0, 0, 0), (35, -10, 8), (-60, 15, -12), (80, 0, 0)]
)
def test_landmarks_and_pose_match_the_truth(topology, make_oracle, yaw, pitch, roll):
    scene = render_synthetic_face(topology, yaw=yaw, pitch=pitch, roll=roll)
    rec = FaceReconstructor(model=make_oracle(topology, [scene.vertices]), detector=None)
    faces = rec(scene.image, boxes=[scene.box])
    assert len(faces) == 1
    face = faces[0]
    error = np.linalg.norm(face.landmarks - scene.landmarks, axis=1)
    assert error.max() < 1.0, error.max()
    assert _angle_between(face.pose.rotation, scene.rotation) < 1.0
    if abs(yaw) < 85:
        assert abs(face.pose.yaw - yaw) < 1.0
        assert abs(face.pose.pitch - pitch) < 1.0
        assert abs(face.pose.roll - roll) < 1.0


def test_face_fields_shapes_and_visibility(topology, make_oracle):
    scene = render_synthetic_face(topology, yaw=60)
    rec = FaceReconstructor(model=make_oracle(topology, [scene.vertices]), detector=None)
    face = rec(scene.image, boxes=[scene.box])[0]
    n = int(topology.uv_mask.sum())
    assert face.vertices.shape == (n, 3) and face.colors.shape == (n, 3)
    assert face.triangles.max() < n
    assert face.visibility.shape == (n,)
    # At yaw +60 the nose turns towards +x (the subject turns to their left): the subject's
    # right jaw (landmarks 0-3, image left) faces the camera, the left jaw (13-16) is hidden.
    assert face.landmark_visibility[0:4].all()
    assert not face.landmark_visibility[13:17].any()
    # Colours of visible vertices are the photo's colours there.
    visible = face.visibility
    xy = np.round(face.vertices[visible, :2]).astype(int)
    sampled = scene.image[xy[:, 1], xy[:, 0]].astype(np.float32) / 255
    assert np.median(np.abs(sampled - face.colors[visible])) < 0.03
    depth = face.depth()
    assert depth.shape == scene.image.shape[:2]
    covered = depth != 0
    # The position map leaves out the neck that the synthetic render draws.
    assert (covered & scene.face_mask).sum() > 0.99 * covered.sum()
    assert covered.sum() > 0.6 * scene.face_mask.sum()
    nose_x, nose_y, nose_z = scene.landmarks[30]
    assert abs(depth[round(nose_y), round(nose_x)] - nose_z) < 1.0


def test_two_faces_and_second_pass(topology, make_oracle):
    left = render_synthetic_face(topology, yaw=20, face_width=120, position=(130, 180))
    right = render_synthetic_face(topology, yaw=-20, face_width=120, position=(350, 180))
    image = np.where(right.face_mask[..., None], right.image, left.image)
    oracle = make_oracle(topology, [left.vertices, right.vertices])
    rec = FaceReconstructor(model=oracle, detector=None, second_pass=True, batch_size=1)
    faces = rec(image, boxes=[left.box, right.box])
    assert oracle.calls == 4  # two faces, batch size 1, two passes
    for face, truth in zip(faces, (left, right), strict=True):
        assert np.abs(face.landmarks - truth.landmarks).max() < 1.0


class RecordingOracle(GroundTruthPredictor):
    """The oracle, keeping every crop transform it was given."""

    def __call__(self, crops, transforms):
        self.transforms = getattr(self, "transforms", []) + list(transforms)
        return super().__call__(crops, transforms)


def test_refiner_predicts_from_an_upright_crop(topology, make_oracle):
    scene = render_synthetic_face(topology, yaw=0, pitch=0, roll=30)
    first = make_oracle(topology, [scene.vertices])
    refiner = RecordingOracle(topology, [scene.vertices])
    rec = FaceReconstructor(model=first, detector=None, refiner=refiner)
    (face,) = rec(scene.image, boxes=[scene.box])
    assert first.calls == 1 and refiner.calls == 1
    (crop,) = refiner.transforms
    assert face.crop is crop
    eyes = crop.to_crop(scene.landmarks[[36, 45], :2])
    tilt = np.degrees(np.arctan2(*(eyes[1] - eyes[0])[::-1]))
    assert abs(tilt) < 1.0  # the eye line is level in the refiner's crop
    assert np.abs(face.landmarks - scene.landmarks).max() < 1.0
    assert rec.settings["refiner"]["predictor"] == "ground_truth"
    with pytest.raises(InvalidInputError):
        FaceReconstructor(model=first, detector=None, refiner=refiner, second_pass=True)
    with pytest.raises(WeightsError, match="not found"):
        FaceReconstructor(model=first, detector=None, refiner="other.safetensors")


@pytest.mark.parametrize("yaw, pitch, roll", [(0, 0, 25), (40, -15, -20), (-70, 10, 10)])
def test_the_lean_first_pass_frames_like_the_true_landmarks(topology, make_oracle,
                                                            yaw, pitch, roll):
    """The refiner's crop comes from the first network's 68 landmarks and their roll alone:
    with a perfect first network it is the crop of the true landmarks at the true roll."""
    from facerecon.crop import crop_from_box, crop_from_landmarks

    scene = render_synthetic_face(topology, yaw=yaw, pitch=pitch, roll=roll)
    refiner = make_oracle(topology, [scene.vertices])
    rec = FaceReconstructor(model=make_oracle(topology, [scene.vertices]), detector=None,
                            refiner=refiner)
    first_crop = crop_from_box(scene.box, topology.resolution, 1.7, -0.12)
    (crop,) = rec.refiner_crops(scene.image, [first_crop])
    expected = crop_from_landmarks(scene.landmarks, topology.resolution, roll=roll)
    corners = np.array([[0, 0], [topology.resolution - 1, topology.resolution - 1]], float)
    # within a pixel of the image at the crop's corners: centre, scale and turn agree
    assert np.abs(crop.to_image(corners) - expected.to_image(corners)).max() < 1.0
    with pytest.raises(InvalidInputError, match="refiner"):
        FaceReconstructor(model=refiner, detector=None).refiner_crops(scene.image, [first_crop])


def test_the_refiner_crop_is_framed_by_the_fitted_face_not_by_single_points(topology,
                                                                          make_oracle):
    """One landmark far off (a chin 40 % of the face lower) barely moves the refiner's crop:
    it is framed from the canonical landmarks placed by the 68-point fit, not from the
    predicted points' extent, which that one point would stretch."""
    from facerecon.crop import crop_from_box, crop_from_landmarks
    from facerecon.posmap import decode_landmarks

    scene = render_synthetic_face(topology, yaw=20, pitch=0, roll=10)
    oracle = make_oracle(topology, [scene.vertices])

    class OutlierHead:  # the oracle's landmarks with the chin (8) moved down
        name, input_size, resolution = "outlier", oracle.input_size, oracle.resolution
        crop_supersample = oracle.crop_supersample

        def __call__(self, crops, transforms):
            return oracle(crops, transforms)

        def predict_landmarks(self, crops, transforms):
            landmarks = decode_landmarks(oracle(crops, transforms), topology)
            height = np.ptp(landmarks[:, :, 1], axis=1)
            landmarks[:, 8, 1] += 0.4 * height
            return landmarks

    first_crop = crop_from_box(scene.box, topology.resolution, 1.7, -0.12)
    rec = FaceReconstructor(model=OutlierHead(), detector=None, refiner=oracle)
    (crop,) = rec.refiner_crops(scene.image, [first_crop])
    truth = crop_from_landmarks(scene.landmarks, topology.resolution, roll=10)
    moved = scene.landmarks.copy()
    moved[8, 1] += 0.4 * np.ptp(scene.landmarks[:, 1])
    from_points = crop_from_landmarks(moved, topology.resolution, roll=10)
    centre = np.full((1, 2), (topology.resolution - 1) / 2)
    side = topology.resolution / truth.scale
    assert np.abs(crop.to_image(centre) - truth.to_image(centre)).max() < 0.03 * side
    assert abs(crop.scale / truth.scale - 1) < 0.05
    # the extent of the same points would have moved the crop by far more
    assert np.abs(from_points.to_image(centre) - truth.to_image(centre)).max() > 0.1 * side


def test_no_face_gives_empty_list_and_input_is_not_modified(topology, make_oracle):
    scene = render_synthetic_face(topology)
    image = scene.image.copy()
    oracle = make_oracle(topology, [scene.vertices])
    rec = FaceReconstructor(model=oracle, detector=NoFaceDetector())
    assert rec(image) == []
    faces = rec(image, boxes=[scene.box])
    assert len(faces) == 1
    np.testing.assert_array_equal(image, scene.image)
    assert image.flags.writeable


def test_front_mesh_is_aligned_with_the_canonical_face(topology, make_oracle):
    scene = render_synthetic_face(topology, yaw=40, pitch=10)
    rec = FaceReconstructor(model=make_oracle(topology, [scene.vertices]), detector=None)
    face = rec(scene.image, boxes=[scene.box])[0]
    front = face.mesh(front=True).vertices
    canonical = topology.canonical_posmap[topology.uv_mask]
    assert np.abs(front - canonical).mean() < 0.5


def test_bad_arguments_raise_typed_errors(topology, make_oracle):
    oracle = make_oracle(topology, [topology.canonical_vertices])
    with pytest.raises(InvalidInputError):
        FaceReconstructor(model=oracle, weights="x.safetensors", detector=None)
    rec = FaceReconstructor(model=oracle, detector=None)
    with pytest.raises(InvalidInputError):
        rec(np.zeros((10, 10, 3), np.float32), boxes=[[0, 0, 5, 5]])
    with pytest.raises(InvalidInputError):
        rec(np.zeros((10, 10, 3), np.uint8))


def test_rotation_helper_matches_scene(topology):
    scene = render_synthetic_face(topology, yaw=10, pitch=5, roll=3)
    np.testing.assert_allclose(scene.rotation, rotation_from_euler(10, 5, 3))


def test_weights_files_say_which_model_runs_them(tmp_path):
    """A weights file is run as the model its metadata names (64 and 128 px networks share
    one architecture, so loading the wrong one raises no key error); unnamed files run as
    the registry default; a refiner file may be another model than the first network."""
    import torch

    from facerecon.models import DEFAULT_MODEL, create_model, save_weights
    from facerecon.predictor import NetworkPredictor

    torch.manual_seed(0)
    framer, refiner, plain = (tmp_path / f"{n}.safetensors" for n in ("f", "r", "p"))
    save_weights(create_model("mobile_posmap64"), framer, {"model": "mobile_posmap64"})
    save_weights(create_model("mobile_posmap128"), refiner, {"model": "mobile_posmap128"})
    save_weights(create_model("mobile_posmap128"), plain)
    assert FaceReconstructor(weights=str(plain), detector=None).predictor.name == DEFAULT_MODEL
    with pytest.raises(WeightsError, match="trained as 'mobile_posmap64'.*--model mobile_posmap64"):
        NetworkPredictor("mobile_posmap128", weights=framer)
    rec = FaceReconstructor(weights=str(framer), refiner=str(refiner), detector=None)
    assert (rec.predictor.input_size, rec.refiner.input_size) == (64, 128)
    assert rec.topology.resolution == 128  # the faces are the refiner's maps
    scene = render_synthetic_face(load_topology(128), yaw=10)
    (face,) = rec(scene.image, boxes=[scene.box])
    assert face.crop.size == 128 and face.vertices.shape == (load_topology(128).vertex_count, 3)


def test_crops_are_sampled_as_the_predictor_was_trained(topology, make_oracle):
    # A head that declares crop_supersample = 2 gets its crops sampled at 2S and averaged
    # down (the build's 256 crops resized to a 128 network), a plain head plain bilinear.
    scene = render_synthetic_face(topology, yaw=20)

    class RecordingHead:
        name, input_size, resolution = "recording", 128, 256

        def __init__(self, supersample):
            self.crop_supersample = supersample
            self.oracle = make_oracle(topology, [scene.vertices], 128)
            self.seen = []

        def __call__(self, crops, transforms):
            self.seen.append((crops.copy(), list(transforms)))
            return self.oracle(crops, transforms)

    for supersample in (1, 2):
        head = RecordingHead(supersample)
        FaceReconstructor(model=head, detector=None)(scene.image, boxes=[scene.box])
        (crops, transforms), = head.seen
        np.testing.assert_array_equal(crops[0], transforms[0].warp(scene.image, supersample))
    assert not np.array_equal(transforms[0].warp(scene.image, 2), transforms[0].warp(scene.image))


def test_the_shipped_refiner_is_used_only_when_asked_for(tmp_path, monkeypatch, topology,
                                                         make_oracle):
    """refiner='shipped' loads <model>.refiner.safetensors from the package's weights; the
    default pipeline runs one network; a missing refiner is a clear error."""
    import torch

    from facerecon.models import create_model, registry, save_weights, shipped_refiner

    torch.manual_seed(0)
    save_weights(create_model("mobile_posmap128"), tmp_path / "mobile_posmap128.safetensors")
    monkeypatch.setattr(registry, "WEIGHTS_DIR", tmp_path)
    assert shipped_refiner("mobile_posmap128") is None
    with pytest.raises(WeightsError, match="no refiner is shipped"):
        FaceReconstructor(detector=None, refiner="shipped")
    refiner_file = tmp_path / "mobile_posmap128.refiner.safetensors"
    save_weights(create_model("mobile_posmap128"), refiner_file)
    assert shipped_refiner("mobile_posmap128") == refiner_file
    assert FaceReconstructor(detector=None).refiner is None
    rec = FaceReconstructor(detector=None, refiner="shipped")
    assert rec.settings["refiner"]["weights_file"] == refiner_file.name
    scene = render_synthetic_face(load_topology(128), yaw=10)
    (face,) = rec(scene.image, boxes=[scene.box])
    assert face.crop.size == 128
    with pytest.raises(InvalidInputError):
        FaceReconstructor(model=make_oracle(topology, [topology.canonical_vertices]),
                          detector=None, refiner="shipped")
