"""PRN's ResFCN256: parameter count, stage sizes, TensorFlow 'SAME' padding semantics."""

from __future__ import annotations

import torch

from facerecon.models.resfcn import ResFCN256, SameConv4, SameConvTranspose4


def test_parameter_count_matches_prn():
    # PRN reports ~13M; this count is the original's layer list (BN scale and offset included).
    count = sum(p.numel() for p in ResFCN256().parameters())
    assert count == 13_353_618


def test_stage_sizes_256_to_8_to_256():
    model = ResFCN256().eval()
    sizes = []
    with torch.inference_mode():
        out = model.stem(torch.rand(1, 3, 256, 256))
        sizes.append(out.shape[-1])
        for block in model.encoder:
            out = block(out)
            sizes.append(out.shape[-1])
        assert out.shape[1] == 512
        for layer in model.decoder:
            out = layer(out)
            sizes.append(out.shape[-1])
        out = model.head(out)
    encoder = [256, 128, 128, 64, 64, 32, 32, 16, 16, 8, 8]
    decoder = [8, 16, 16, 16, 32, 32, 32, 64, 64, 64, 128, 128, 256, 256, 256, 256]
    assert sizes == encoder + decoder
    assert out.shape == (1, 3, 256, 256)


def _single_channel_conv(stride: int) -> tuple[SameConv4, torch.Tensor]:
    kernel = torch.arange(16, dtype=torch.float32).view(1, 1, 4, 4) + 1
    conv = SameConv4(1, 1, stride)
    conv.conv.weight.data.copy_(kernel)
    return conv, kernel


def test_same_conv_stride1_pads_one_before_two_after():
    # TF 'SAME', k=4, s=1: out[i] = sum_k w[k] x[i + k - 1]; an impulse at p lands w[p - i + 1].
    conv, kernel = _single_channel_conv(1)
    image = torch.zeros(1, 1, 8, 8)
    image[0, 0, 4, 4] = 1
    with torch.no_grad():
        out = conv(image)[0, 0]
    assert out.shape == (8, 8)
    assert torch.equal(out[2:6, 2:6], kernel[0, 0].flip(0, 1))
    assert out.sum() == kernel.sum()


def test_same_conv_stride2_pads_one_each_side():
    conv, kernel = _single_channel_conv(2)
    image = torch.zeros(1, 1, 8, 8)
    image[0, 0, 0, 0] = 1  # only reached through the one pixel of padding before
    with torch.no_grad():
        out = conv(image)[0, 0]
    assert out.shape == (4, 4)
    assert out[0, 0] == kernel[0, 0, 1, 1] and out.sum() == kernel[0, 0, 1, 1]


def test_transposed_conv_is_the_adjoint_of_same_conv():
    # TF defines conv2d_transpose as the gradient of conv2d with the same padding, so
    # <conv(x), y> == <conv_t(y), x> for every x, y when both share one kernel.
    torch.manual_seed(0)
    for stride in (1, 2):
        conv = SameConv4(2, 3, stride)
        transposed = SameConvTranspose4(3, 2, stride)
        transposed.conv.weight.data.copy_(conv.conv.weight.data)
        x = torch.randn(1, 2, 16, 16, dtype=torch.float64)
        y = torch.randn(1, 3, 16 // stride, 16 // stride, dtype=torch.float64)
        conv, transposed = conv.double(), transposed.double()
        with torch.no_grad():
            left = (conv(x) * y).sum()
            right = (transposed(y) * x).sum()
        assert transposed(y).shape == x.shape
        torch.testing.assert_close(left, right, rtol=1e-12, atol=1e-12)
