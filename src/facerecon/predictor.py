"""The seam between the pipeline and any model head: crops in, crop-space position maps out.

Every head (the PRN-style networks in :mod:`facerecon.models`, a future 3DMM or volumetric
head, or a test oracle) is a :class:`PosmapPredictor`; the pipeline knows nothing else.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from facerecon.crop import CropTransform
from facerecon.errors import WeightsError


@runtime_checkable
class PosmapPredictor(Protocol):
    """Anything that turns face crops into UV position maps.

    Attributes:
        name: shown in outputs (the JSON summary's "model").
        input_size: side S of the RGB crops it takes.
        resolution: side R of the position maps it returns (a packaged topology size).
    """

    name: str
    input_size: int
    resolution: int

    def __call__(self, crops: np.ndarray, transforms: list[CropTransform]) -> np.ndarray:
        """(B, S, S, 3) uint8 RGB crops, and the crop transform each came from (heads that
        only look at pixels ignore them) -> (B, R, R, 3) float32 position maps in pixels of
        the crop (x right, y down, larger z nearer)."""
        ...


class NetworkPredictor:
    """A registered network (:mod:`facerecon.models`) with its weights, ready to predict.

    Args:
        name: registered model name.
        weights: ``.safetensors`` path; ``None`` takes the weights shipped with the package.
        device: torch device string.

    Raises:
        WeightsError: no weights given and none shipped for ``name``, or they do not match.
    """

    def __init__(self, name: str, weights=None, device: str = "cpu"):
        from facerecon.models import (
            create_model,
            get_config,
            prepare_for_inference,
            shipped_weights,
        )

        config = get_config(name)
        if weights is None:
            weights = shipped_weights(name)
            if weights is None:
                raise WeightsError(
                    f"no trained weights are installed for model {name!r}. Pass a "
                    f".safetensors file with --weights (Python: weights=...); "
                    f"`facerecon train` makes one from the data built by "
                    f"`facerecon data build` (see docs/training.md)."
                )
        model = create_model(name, weights=weights).to(device)
        self.model = prepare_for_inference(model) if device == "cpu" else model
        self.config = config
        self.name = name
        self.input_size = config.input_size
        self.resolution = config.output_size

    def __call__(self, crops: np.ndarray, transforms: list[CropTransform]) -> np.ndarray:
        from facerecon.models import predict_posmaps

        return predict_posmaps(self.model, self.config, crops, batch_size=len(crops) or 1)
