import numpy as np
import pytest
from aflw_fixtures import make_folder

from facerecon.data.aflw2000 import Aflw2000Dataset
from facerecon.errors import InvalidInputError
from facerecon.evaluate.aflw2000 import evaluate_aflw2000


@pytest.fixture
def dataset(tmp_path, rng):
    make_folder(tmp_path / "d", rng, names=("image00002.jpg", "image00003.jpg", "image00004.jpg"))
    return Aflw2000Dataset(tmp_path / "d")


def test_perfect_predictions_score_zero_on_original(dataset):
    predictions = {s.name: s.pts68 for s in dataset}
    result = evaluate_aflw2000(dataset, predictions)
    assert result.summary["original"].mean == 0.0
    assert result.summary["original_3d"].mean == pytest.approx(0.0, abs=1e-9)
    # The fake re-annotation is the original + (1, 1): error sqrt(2) px over each GT box.
    expected = [np.sqrt(2) / np.sqrt(np.prod(np.ptp(s.pts68_reannotated, axis=0))) for s in dataset]
    np.testing.assert_allclose(result.per_image["reannotated"], expected, rtol=1e-6)
    assert result.summary["original"].counts == (1, 1, 1)


def test_two_dimensional_predictions_skip_3d(dataset):
    predictions = {s.name: s.pts68[:, :2] + [2, 0] for s in dataset}
    result = evaluate_aflw2000(dataset, predictions)
    assert "original_3d" not in result.summary
    table = result.as_dict()
    assert table["num_images"] == 3 and table["pose_file"] == "AFLW2000-3D.pose.npy"
    expected = [2 / np.sqrt(np.prod(np.ptp(s.pts68[:, :2], axis=0))) * 100 for s in dataset]
    assert table["tables"]["original"]["mean"] == pytest.approx(np.mean(expected))


def test_missing_or_extra_predictions_and_pose_choice(dataset):
    predictions = {s.name: s.pts68 for s in dataset}
    with pytest.raises(InvalidInputError):
        evaluate_aflw2000(dataset, dict(list(predictions.items())[1:]))
    with pytest.raises(InvalidInputError):
        evaluate_aflw2000(dataset, {**predictions, "image09999.jpg": np.zeros((68, 3))})
    with pytest.raises(InvalidInputError):
        evaluate_aflw2000(dataset, predictions, pose="new")  # the fake folder has no -new file
    with pytest.raises(InvalidInputError):
        evaluate_aflw2000(dataset, predictions, pose="sideways")
