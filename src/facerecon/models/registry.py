"""The model registry: name -> (factory, :class:`ModelConfig`), and shipped weights.

>>> "prn_resfcn256" in list_models()
True
>>> get_config("prn_resfcn256").output_scale
281.6
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from torch import nn

from facerecon.errors import InvalidInputError
from facerecon.models.config import ModelConfig
from facerecon.models.mobile import MobilePosmapNet
from facerecon.models.resfcn import ResFCN256
from facerecon.models.weights_io import WEIGHTS_SUFFIX, load_weights

# Shipped weights live beside this module as <name>.safetensors (package data).
WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"


@dataclass(frozen=True)
class _Entry:
    factory: Callable[[ModelConfig], nn.Module]
    config: ModelConfig


_REGISTRY: dict[str, _Entry] = {}


def register_model(config: ModelConfig, factory: Callable[[ModelConfig], nn.Module]) -> None:
    """Add a network; ``factory(config)`` must build it with random weights.

    Raises:
        InvalidInputError: the name is already registered.
    """
    if config.name in _REGISTRY:
        raise InvalidInputError(f"model {config.name!r} is already registered")
    _REGISTRY[config.name] = _Entry(factory, config)


def list_models() -> list[str]:
    """Registered model names, sorted."""
    return sorted(_REGISTRY)


def _entry(name: str) -> _Entry:
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(list_models())
        raise InvalidInputError(f"unknown model {name!r}; registered: {known}") from None


def get_config(name: str) -> ModelConfig:
    """The frozen config (input size, normalisation, output scale) of a registered model."""
    return _entry(name).config


def create_model(name: str, weights: str | os.PathLike | None = None) -> nn.Module:
    """Build a registered network, in eval mode, on the CPU.

    Args:
        name: a name from :func:`list_models`.
        weights: a ``.safetensors`` file to load strictly; ``None`` keeps random weights
            (use :func:`shipped_weights` to find the packaged ones).

    Raises:
        InvalidInputError: unknown name.
        WeightsError: the weights file is missing, unreadable or does not match.
    """
    entry = _entry(name)
    model = entry.factory(entry.config)
    if weights is not None:
        load_weights(model, weights)
    return model.eval()


def shipped_weights(name: str) -> Path | None:
    """Path of the weights packaged for ``name``, or ``None`` when none are shipped.

    Raises:
        InvalidInputError: unknown name.
    """
    _entry(name)
    path = WEIGHTS_DIR / f"{name}{WEIGHTS_SUFFIX}"
    return path if path.is_file() else None


def shipped_refiner(name: str) -> Path | None:
    """Path of the refiner packaged for ``name`` (``<name>.refiner.safetensors``: a second
    network of the same model that ``FaceReconstructor(refiner="shipped")``, ``--refine``,
    runs on an upright crop of the first network's landmarks), or ``None`` when none is
    shipped.

    Raises:
        InvalidInputError: unknown name.
    """
    _entry(name)
    path = WEIGHTS_DIR / f"{name}.refiner{WEIGHTS_SUFFIX}"
    return path if path.is_file() else None


register_model(
    ModelConfig(
        name="prn_resfcn256",
        input_size=256,
        output_size=256,
        output_scale=256 * 1.1,
        description="PRN's ResFCN256 (Feng et al. 2018): 256 in/out, 13.4M parameters",
    ),
    lambda config: ResFCN256(output_scale=config.output_scale),
)

# ImageNet statistics, as MobileNetV2 encoders are usually trained with.
_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)

for _size in (64, 128, 256):
    register_model(
        ModelConfig(
            name=f"mobile_posmap{_size}",
            input_size=_size,
            output_size=_size,
            mean=_IMAGENET_MEAN,
            std=_IMAGENET_STD,
            output_scale=_size * 1.1,
            # trained on 256 build crops: the 128 (64) network saw them area-averaged by 2 (4)
            crop_supersample=256 // _size,
            # the shipped 128 weights' (v6) maps smoothed over the face like a 0.75-px Gaussian:
            # chosen on build v3's val split (benchmarks/surface_smoothing.py, docs/models.md)
            surface_sigma=0.75 if _size == 128 else 0.0,
            description=(
                f"MobileNetV2-style encoder + transposed-conv decoder with skips, {_size} in/out, "
                "1.8M parameters"
            ),
        ),
        lambda config: MobilePosmapNet(output_scale=config.output_scale),
    )

#: The model the pipeline and the CLI use when none is named: the CPU-fast compact network
#: (PRN's ResFCN256 is ~10x slower on a laptop CPU; docs/models.md has the numbers).
DEFAULT_MODEL = "mobile_posmap128"
