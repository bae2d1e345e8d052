import pytest
import torch

from facerecon.errors import InvalidInputError
from facerecon.posmap import decode
from facerecon.topology import load_topology
from facerecon.train.losses import (
    landmark_loss,
    loss_weights,
    posmap_gradient_loss,
    weighted_posmap_loss,
)


def test_uniform_error_gives_its_squared_size_in_percent_of_the_crop():
    weights = loss_weights(load_topology(128).weight_mask)
    target = torch.rand(2, 128, 128, 3) * 100
    # A 3-4-0 offset is 5 px; on a 250 px crop that is 2 % -> loss 4.
    pred = target + torch.tensor([3.0, -4.0, 0.0])
    assert float(weighted_posmap_loss(pred, target, weights, 250)) == pytest.approx(4.0, rel=1e-5)


def test_weights_select_pixels_and_normalise():
    weights = torch.zeros(4, 4)
    weights[0, 0], weights[1, 1] = 3.0, 1.0
    target = torch.zeros(1, 4, 4, 3)
    pred = target.clone()
    pred[0, 0, 0, 2] = 2.0  # 2 px at weight 3
    pred[0, 1, 1, 0] = 4.0  # 4 px at weight 1
    pred[0, 2, 2, 1] = 100.0  # weight 0: ignored
    expected = (3 * 4 + 1 * 16) / 4 / (100 / 100) ** 2
    assert float(weighted_posmap_loss(pred, target, weights, 100)) == pytest.approx(expected)


def test_loss_is_a_batch_mean_and_has_gradients():
    weights = torch.ones(4, 4)
    target = torch.zeros(2, 4, 4, 3)
    pred = torch.zeros(2, 4, 4, 3, requires_grad=True)
    offsets = torch.zeros(2, 4, 4, 3)
    offsets[0, ..., 0] = 1.0
    loss = weighted_posmap_loss(pred + offsets, target, weights, 100)
    assert float(loss.detach()) == pytest.approx(0.5)
    loss.backward()
    assert pred.grad.abs().sum() > 0


def test_bad_shapes_and_zero_weights_raise():
    with pytest.raises(InvalidInputError):
        weighted_posmap_loss(torch.zeros(1, 4, 4, 3), torch.zeros(1, 4, 4, 2), torch.ones(4, 4),
                             10)
    with pytest.raises(InvalidInputError):
        weighted_posmap_loss(torch.zeros(1, 4, 4, 3), torch.zeros(1, 4, 4, 3), torch.zeros(4, 4),
                             10)
    with pytest.raises(InvalidInputError):
        loss_weights(-torch.ones(4, 4).numpy())


def test_gradient_loss_ignores_a_constant_offset_and_scores_a_ridge():
    weights = torch.ones(6, 6)
    target = torch.rand(1, 6, 6, 3) * 50
    assert float(posmap_gradient_loss(target + 7.0, target, weights, 100)) == pytest.approx(
        0.0, abs=1e-6)
    ridged = target.clone()
    ridged[0, 2, :, 2] += 3.0  # one row 3 px nearer: two of the 5 v-steps per column change
    # 6 columns x 2 pairs x 9 px^2 over 2 x 30 pairs, crop of 100 px -> loss in px^2.
    expected = 6 * 2 * 9 / 60
    assert float(posmap_gradient_loss(ridged, target, weights, 100)) == pytest.approx(expected)


def test_gradient_loss_skips_pairs_with_a_weightless_pixel_and_has_gradients():
    weights = torch.ones(4, 4)
    weights[:, 3] = 0.0  # the last column is outside the face
    target = torch.zeros(2, 4, 4, 3)
    pred = torch.zeros(2, 4, 4, 3)
    pred[:, :, 3, 0] = 50.0  # a jump into the weightless column: not scored
    assert float(posmap_gradient_loss(pred, target, weights, 100)) == 0.0
    pred = pred.clone().requires_grad_(True)
    bump = torch.zeros(2, 4, 4, 3)
    bump[0, 1, 1, 1] = 2.0
    loss = posmap_gradient_loss(pred + bump, target, weights, 100)
    assert float(loss.detach()) > 0
    loss.backward()
    assert pred.grad[0].abs().sum() > 0 and pred.grad[1].abs().sum() == 0
    with pytest.raises(InvalidInputError):
        posmap_gradient_loss(pred, target, torch.eye(4), 100)  # no weighted neighbours
    with pytest.raises(InvalidInputError):
        posmap_gradient_loss(pred, target[..., :2], weights, 100)


def _landmark_samples(topology):
    return (torch.tensor(topology.landmark_sample_index, dtype=torch.int64),
            torch.tensor(topology.landmark_sample_weight, dtype=torch.float32))


def test_landmark_loss_scores_the_landmarks_the_pipeline_decodes():
    topology = load_topology(128)
    generator = torch.Generator().manual_seed(3)
    pred = torch.rand(2, 128, 128, 3, generator=generator) * 128
    target = torch.rand(2, 128, 128, 3, generator=generator) * 128
    value = float(landmark_loss(pred, target, *_landmark_samples(topology), 128))
    difference = (decode(pred.numpy(), topology).landmarks
                  - decode(target.numpy(), topology).landmarks)
    expected = float((difference.astype("float64") ** 2).sum(-1).mean()) / 1.28 ** 2
    assert value == pytest.approx(expected, rel=1e-5)
    shifted = target + torch.tensor([3.0, 4.0, 0.0])  # every landmark 5 px = 3.9 % of 128 off
    assert float(landmark_loss(shifted, target, *_landmark_samples(topology), 128)) == (
        pytest.approx((5 / 1.28) ** 2, rel=1e-5))


def test_landmark_loss_ignores_pixels_no_landmark_reads_and_has_gradients():
    topology = load_topology(128)
    samples = _landmark_samples(topology)
    target = torch.zeros(1, 128, 128, 3)
    pred = target.clone()
    read = torch.zeros(128 * 128, dtype=torch.bool)
    read[samples[0][samples[1] != 0]] = True
    pred.view(1, -1, 3)[:, ~read] = 50.0  # every pixel no landmark reads is far off
    assert float(landmark_loss(pred, target, *samples, 128)) == 0.0
    pred.requires_grad_(True)
    landmark_loss(pred, target + 1.0, *samples, 128).backward()
    assert pred.grad.view(-1, 3)[read].abs().sum() > 0
    assert pred.grad.view(-1, 3)[~read].abs().sum() == 0


def test_landmark_loss_bad_shapes_raise():
    samples = _landmark_samples(load_topology(128))
    with pytest.raises(InvalidInputError, match="pred"):
        landmark_loss(torch.zeros(1, 128, 128, 3), torch.zeros(1, 128, 128, 2), *samples, 128)
    with pytest.raises(InvalidInputError, match="sample_index"):
        landmark_loss(torch.zeros(1, 128, 128, 3), torch.zeros(1, 128, 128, 3), samples[0],
                      samples[1][:, :5], 128)
