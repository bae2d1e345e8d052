"""Which torch device a network runs on, from the string a user gives."""

from __future__ import annotations

import torch

from facerecon.errors import InvalidInputError


def resolve_device(name: str) -> torch.device:
    """``"auto"`` -> CUDA when torch sees a CUDA device, else the CPU; any other torch device
    string as it is ("cpu", "cuda", "cuda:1", ...).

    Raises:
        InvalidInputError: not a torch device string, or CUDA asked for where torch sees none
            (a CPU-only torch build, or no GPU).
    """
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except (RuntimeError, TypeError):
        raise InvalidInputError(f"device {name!r} is not a torch device string (e.g. cpu, "
                                "cuda, cuda:1, auto)") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise InvalidInputError(f"device {name!r} asked for, but torch sees no CUDA device "
                                f"(torch {torch.__version__}); use cpu")
    return device
