"""Ground truth of a photo: a synthetic ICT face rendered into a photo, fitted back from its
68 landmarks, cropped and encoded, decodes onto the projected truth."""

from __future__ import annotations

import numpy as np
import pytest

from facerecon.data.groundtruth import crop_for_face, fit_photo, make_sample, uv_texture
from facerecon.posmap import decode
from facerecon.topology import load_topology


@pytest.mark.parametrize("yaw", [0.0, 25.0, -45.0])
def test_posmap_decodes_onto_the_projected_truth(ict_model, ict_fitter, synthetic_photo, yaw):
    image, truth, _ = synthetic_photo(ict_model, yaw=yaw)
    topology = load_topology(256)
    photo = fit_photo(image, truth[ict_model.landmark_indices], ict_fitter, ict_model)
    sample = make_sample(photo, topology, 256)
    crop = crop_for_face(photo.vertices, topology, 256)
    expected = crop.to_crop(truth[topology.landmark_vertices])
    decoded = decode(sample.posmap, topology).landmarks
    error = np.linalg.norm(decoded[:, :2] - expected[:, :2], axis=1)
    # What is left of the fit (weak priors here) plus the codec's bilinear lookup; measured
    # mean 0.12-0.14 px, max 0.33-0.74 px.
    assert error.mean() < 0.3 and error.max() < 1.0
    # The stored landmarks are the fitted face's landmark vertices in the crop.
    np.testing.assert_allclose(sample.landmarks, crop.to_crop(photo.vertices)[
        topology.landmark_vertices], atol=1e-4)
    assert sample.image.shape == (256, 256, 3) and sample.posmap.shape == (256, 256, 3)
    assert abs(sample.yaw - yaw) < 3.0


def test_self_occluded_landmarks_are_marked(ict_model, ict_fitter, synthetic_photo):
    image, truth, _ = synthetic_photo(ict_model, yaw=60.0, pitch=0.0, roll=0.0)
    topology = load_topology(128)
    photo = fit_photo(image, truth[ict_model.landmark_indices], ict_fitter, ict_model)
    sample = make_sample(photo, topology, 256)
    # Yaw +60 turns the nose to +x, so the subject's left side (larger x, jaw points 9-16)
    # turns away behind the cheek and nose while the right jaw (0-7) faces the camera.
    assert sample.visible[0:7].all() and not sample.visible[12:17].any()
    assert sample.visible[[30, 33, 36, 39, 48]].all()


def test_uv_texture_samples_the_photo_at_the_posmap():
    image = np.zeros((50, 60, 3), np.uint8)
    image[..., 0] = np.arange(60, dtype=np.uint8)[None, :]
    image[..., 1] = np.arange(50, dtype=np.uint8)[:, None]
    posmap = np.zeros((4, 4, 3), np.float32)
    posmap[..., 0], posmap[..., 1] = 10.0, 20.0
    posmap[0, 0, :2] = (30.0, 5.0)
    posmap[3, 3, :2] = (-40.0, 5.0)  # off the photo
    mask = np.ones((4, 4), bool)
    mask[1, 1] = False
    texture = uv_texture(image, posmap, mask)
    assert tuple(texture[0, 0, :2]) == (30, 5) and tuple(texture[2, 2, :2]) == (10, 20)
    assert not texture[1, 1].any() and not texture[3, 3].any()
