import numpy as np
import pytest
import torch
from shared_data import require_shared

from facerecon.data.aflw2000 import Aflw2000Dataset
from facerecon.data.teacher import Teacher, decode_params
from facerecon.data.teacher.assets import read_assets
from facerecon.data.teacher.network import MobileNetV1
from facerecon.evaluate.aflw2000 import evaluate_aflw2000, predict_dataset
from facerecon.imageio import read_image


@pytest.fixture(scope="module")
def teacher(tmp_path_factory):
    folder = require_shared("teacher-3ddfa")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FACERECON_CACHE", str(tmp_path_factory.mktemp("cache")))
        return Teacher.from_folder(folder)


def test_network_shapes():
    torch.manual_seed(0)
    net = MobileNetV1().eval()
    out = net(torch.randn(2, 3, 120, 120))
    assert out.shape == (2, 62) and torch.isfinite(out).all()
    assert sum(p.numel() for p in net.state_dict().values()) == 931137  # as the checkpoint


def test_mean_parameters_give_a_frontal_face_in_the_crop():
    assets = read_assets(require_shared("teacher-3ddfa"))
    points = decode_params(assets.param_mean[None], assets)[0]
    assert points.shape == (68, 3) and points.dtype == np.float32
    # Jaw ends left and right of centre, chin below the nose tip (y down), nose nearest (z).
    assert points[0, 0] < 60 < points[16, 0]
    assert points[8, 1] > points[30, 1]
    assert points[30, 2] > points[[0, 16], 2].max()
    assert points[:, :2].min() > 0 and points[:, :2].max() < 120


def test_predict_matches_batch_and_keeps_input(teacher):
    root = require_shared("aflw2000-3d")
    sample = Aflw2000Dataset(root)[0]
    image = read_image(sample.image_path)
    before = image.copy()
    single = teacher.predict(image, sample.roi_box)
    batch = teacher.predict_batch([image, image], np.stack([sample.roi_box] * 2))
    np.testing.assert_array_equal(image, before)
    assert single.shape == (68, 3) and single.dtype == np.float32
    np.testing.assert_allclose(batch[0], single, atol=1e-3)
    np.testing.assert_allclose(batch[1], single, atol=1e-3)


def test_reproduces_3ddfa_v2_accuracy_on_16_aflw_images(teacher):
    dataset = Aflw2000Dataset(require_shared("aflw2000-3d"))
    predictions = predict_dataset(teacher.predict_batch, dataset)
    result = evaluate_aflw2000(dataset, predictions)
    table = result.summary["original"]
    assert table.counts == (10, 4, 2)
    assert table.mean * 100 == pytest.approx(3.36, abs=0.01)
    assert table.mean_of_bins * 100 == pytest.approx(3.67, abs=0.01)
    # Larger z is nearer: the nose tip (30) is in front of the jaw ends (mean), as in the GT.
    for sample in dataset:
        points = predictions[sample.name]
        assert points[30, 2] > points[[0, 16], 2].mean()
        assert sample.pts68[30, 2] > sample.pts68[[0, 16], 2].mean()
