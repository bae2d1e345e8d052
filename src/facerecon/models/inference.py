"""Inference-time preparation: fold batch norm into the convolutions before it, and freeze
the result for the CPU.

In eval mode a batch norm is a per-channel affine map, so ``BN(conv(x))`` equals one conv
with scaled weights and a bias. Folding removes about half the operators of the compact
networks, which at batch 1 on two cores is a large part of the time. The folded copy gives
the same outputs up to float rounding (tested) and is for inference only: it has no batch
norm left to train, and its state dict no longer matches the registered architecture, so
weights are always saved from and loaded into the unfolded model.

:func:`freeze_for_cpu` then traces the folded network into a frozen TorchScript graph (its
weights become constants, convolutions get their oneDNN weight layouts once): the same
outputs (tested to 1e-3 px), in less time (``mobile_posmap128``, 2 threads: the network
stage of benchmarks/pipeline_speed.py 4.31 -> 3.26 ms, commit e225b8f). The first two calls
of each new batch size are slow (tens of ms) while the graph executor specialises.
"""

from __future__ import annotations

import copy
import warnings

import torch
from torch import nn

_CONVS = (nn.Conv2d, nn.ConvTranspose2d)


def _conv_of(module: nn.Module) -> nn.Conv2d | nn.ConvTranspose2d | None:
    """The convolution a module applies last, if it is a conv or a thin wrapper of one."""
    if isinstance(module, _CONVS):
        return module
    inner = getattr(module, "conv", None)
    return inner if isinstance(inner, _CONVS) else None


@torch.no_grad()
def _fold(conv: nn.Conv2d | nn.ConvTranspose2d, norm: nn.BatchNorm2d) -> None:
    scale = norm.weight / torch.sqrt(norm.running_var + norm.eps)
    bias = conv.bias if conv.bias is not None else torch.zeros_like(norm.running_mean)
    if isinstance(conv, nn.ConvTranspose2d):
        # Weight is (in, out / groups, k, k); output channel o sits at [g * in/g.., o % (out/g)].
        if conv.groups != 1:
            raise NotImplementedError("folding into grouped transposed convs is not supported")
        conv.weight.mul_(scale.view(1, -1, 1, 1))
    else:
        conv.weight.mul_(scale.view(-1, 1, 1, 1))
    new_bias = (bias - norm.running_mean) * scale + norm.bias
    conv.bias = nn.Parameter(new_bias.detach().clone())


def fold_batchnorm(model: nn.Module) -> nn.Module:
    """Return an eval-mode copy of ``model`` with every ``conv -> BatchNorm2d`` pair folded.

    Only pairs that follow each other inside an ``nn.Sequential`` are folded (that is how
    every registered network is written); a batch norm after a sum stays. ``model`` itself
    is not changed.
    """
    folded = copy.deepcopy(model).eval()
    for module in folded.modules():
        if not isinstance(module, nn.Sequential):
            continue
        children = list(module.named_children())
        for (_, first), (name, second) in zip(children, children[1:], strict=False):
            conv = _conv_of(first)
            if conv is not None and isinstance(second, nn.BatchNorm2d):
                _fold(conv, second)
                setattr(module, name, nn.Identity())
    return folded


def prepare_for_inference(model: nn.Module, channels_last: bool = True) -> nn.Module:
    """Eval-mode copy with batch norm folded and, optionally, channels-last memory format.

    Channels-last lets oneDNN pick its faster kernels for depthwise and 1x1 convolutions
    on the CPU (measured in benchmarks/model_speed.py).
    """
    prepared = fold_batchnorm(model)
    if channels_last:
        prepared = prepared.to(memory_format=torch.channels_last)
    return prepared


def freeze_for_cpu(model: nn.Module, input_size: int) -> torch.jit.ScriptModule:
    """A frozen TorchScript trace of ``model`` (a :func:`prepare_for_inference` copy) for CPU.

    Traced on one channels-last ``(1, 3, input_size, input_size)`` input; any batch size
    works afterwards (tested), other input sizes are not supported (the crops are always
    ``input_size``). The result has no parameters (they are folded into the graph), runs
    only under the device it was traced on, and is for inference only. ``torch.jit`` warns
    that it is deprecated in favour of ``torch.compile``, which needs a C++ compiler at run
    time and seconds of compiling per process; the pinned torch keeps ``torch.jit``, so those
    warnings are silenced here.
    """
    example = torch.zeros(1, 3, input_size, input_size).contiguous(
        memory_format=torch.channels_last)
    with warnings.catch_warnings(), torch.inference_mode():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        return torch.jit.freeze(torch.jit.trace(model.eval(), example, check_trace=False))
