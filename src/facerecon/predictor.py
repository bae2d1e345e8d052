"""The seam between the pipeline and any model head: crops in, crop-space position maps out.

Every head (the PRN-style networks in :mod:`facerecon.models`, a future 3DMM or volumetric
head, or a test oracle) is a :class:`PosmapPredictor`; the pipeline knows nothing else.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from facerecon.crop import CropTransform
from facerecon.errors import WeightsError
from facerecon.posmap import decode_landmarks
from facerecon.topology import load_topology


@runtime_checkable
class PosmapPredictor(Protocol):
    """Anything that turns face crops into UV position maps.

    Attributes:
        name: shown in outputs (the JSON summary's "model").
        input_size: side S of the RGB crops it takes.
        resolution: side R of the position maps it returns (a packaged topology size).
        crop_supersample: k with which the pipeline samples its crops
            (:meth:`facerecon.crop.CropTransform.warp`): at k x S, then k x k blocks
            averaged, as the network's training crops were; 1 for plain bilinear crops.

    Optional: ``surface_sigma``, the smoothing :class:`~facerecon.api.FaceReconstructor`
    applies to the returned maps by default (:func:`facerecon.posmap.smooth`; 0 without it).
    """

    name: str
    input_size: int
    resolution: int
    crop_supersample: int

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
        device: torch device string (``"auto"``: CUDA when torch sees one, else the CPU).

    Raises:
        WeightsError: no weights given and none shipped for ``name``, or they do not match
            (keys, shapes, or the model the file says it was trained as).
    """

    def __init__(self, name: str, weights=None, device: str = "cpu"):
        from facerecon.models import (
            create_model,
            freeze_for_cpu,
            get_config,
            prepare_for_inference,
            resolve_device,
            shipped_weights,
            weights_model,
        )

        config = get_config(name)
        device = resolve_device(device)
        if weights is None:
            weights = shipped_weights(name)
            if weights is None:
                raise WeightsError(
                    f"no trained weights are installed for model {name!r}. Pass a "
                    f".safetensors file with --weights (Python: weights=...); "
                    f"`facerecon train` makes one from the data built by "
                    f"`facerecon data build` (see docs/training.md)."
                )
        trained_as = weights_model(weights)
        if trained_as is not None and trained_as != name:
            raise WeightsError(
                f"{weights} holds weights trained as {trained_as!r}, not {name!r}; run them "
                f"as that model (--model {trained_as})")
        model = create_model(name, weights=weights).to(device)
        # which weights made the maps, for reports (FaceReconstructor.settings)
        self.weights_file = Path(weights).name
        self.weights_sha256 = hashlib.sha256(Path(weights).read_bytes()).hexdigest()
        # CPU: batch norm folded, channels-last, frozen TorchScript (facerecon.models.inference)
        self._device = device
        self._frozen = device.type == "cpu"
        self._network = prepare_for_inference(model) if self._frozen else model.eval()
        self.model = (freeze_for_cpu(self._network, config.input_size)
                      if self._frozen else self._network)
        self._landmark_model = None  # built on the first predict_landmarks call
        self.config = config
        self.name = name
        self.input_size = config.input_size
        self.resolution = config.output_size
        self.crop_supersample = config.crop_supersample
        # the smoothing FaceReconstructor applies to these maps unless told otherwise
        self.surface_sigma = config.surface_sigma

    def __call__(self, crops: np.ndarray, transforms: list[CropTransform]) -> np.ndarray:
        from facerecon.models import predict_posmaps

        return predict_posmaps(self.model, self.config, crops, batch_size=len(crops) or 1)

    def predict_landmarks(self, crops: np.ndarray, transforms: list[CropTransform]) -> np.ndarray:
        """The 68 landmarks of each crop, without the rest of the map where the network
        allows it.

        Equal, to float rounding, to ``decode_landmarks(self(crops, transforms), topology)``
        (tested): the map is evaluated at the landmarks' sample texels alone
        (:class:`facerecon.models.texels.TexelNet`, frozen on the CPU on first use), or
        whole for a network without such a head (``prn_resfcn256``).

        Args:
            crops: (B, S, S, 3) uint8 RGB.
            transforms: the crop transform of each (unused: a network reads pixels only).

        Returns:
            (B, 68, 3) float32 landmarks in pixels of the crop, iBUG order.
        """
        from facerecon.models import TexelNet, freeze_for_cpu, predict_texels, supports_texels

        topology = load_topology(self.resolution)
        if not supports_texels(self._network):
            return decode_landmarks(self(crops, transforms), topology)
        if self._landmark_model is None:
            landmark_net = TexelNet(self._network, topology.landmark_sample_index,
                                    topology.landmark_sample_weight, self.resolution)
            landmark_net = landmark_net.to(self._device)
            self._landmark_model = (freeze_for_cpu(landmark_net, self.input_size)
                                    if self._frozen else landmark_net)
        return predict_texels(self._landmark_model, self.config, crops,
                              len(topology.landmark_sample_index), batch_size=len(crops) or 1)


class FlipAveragedPredictor:
    """Test-time mirror averaging around a head that looks only at pixels (a network).

    Each crop is predicted twice, as given and mirrored left-right; the mirror's map is
    mapped back (UV columns ``c -> R - 1 - c``: the UV layout is left-right symmetric, within
    0.06 px at the 99th percentile on the 128 topology's canonical map; crop ``x -> S - 1 - x``
    with pixel centres at integers, :mod:`facerecon.crop`) and the two are averaged. The
    result is mirror-equivariant by construction: the map of a mirrored crop is the mirror
    of the map of the crop. Texels whose mirror lies outside the UV mask keep the direct
    prediction. Crops and mirrors go through the head in one call while that is at most
    :attr:`JOINT_LIMIT` crops, else in two (``mobile_posmap128``, 2 threads, frozen trace: 2
    crops in one call cost less than two calls of one, 32 crops in one call more than two
    calls of 16; the flip network stage is in benchmarks/results/pipeline_speed_flip.json).

    Args:
        inner: the head to wrap. The mirrored crops are passed with their unmirrored
            transforms, so heads that read the transforms (test oracles) must not be wrapped.
    """

    JOINT_LIMIT = 16

    def __init__(self, inner: PosmapPredictor):
        mask = load_topology(inner.resolution).uv_mask
        self.inner = inner
        self.name = f"{inner.name}+flip"
        self.input_size = inner.input_size
        self.resolution = inner.resolution
        self.crop_supersample = inner.crop_supersample
        self.surface_sigma = getattr(inner, "surface_sigma", 0.0)
        for report in ("weights_file", "weights_sha256"):  # those a network head has
            if hasattr(inner, report):
                setattr(self, report, getattr(inner, report))
        self._paired = mask & mask[:, ::-1]  # (R, R) texels averaged with their mirror

    def __call__(self, crops: np.ndarray, transforms: list[CropTransform]) -> np.ndarray:
        """Same contract as :meth:`PosmapPredictor.__call__`."""
        count = len(crops)
        flipped = np.ascontiguousarray(crops[:, :, ::-1])
        if 2 * count <= self.JOINT_LIMIT:
            maps = self.inner(np.concatenate([crops, flipped]), [*transforms, *transforms])
            direct, mirrored = maps[:count], maps[count:]
        else:
            direct, mirrored = self.inner(crops, transforms), self.inner(flipped, transforms)
        direct = np.asarray(direct, np.float32)
        mirrored = np.asarray(mirrored, np.float32)[:, :, ::-1]  # UV columns back
        mean = 0.5 * (direct + mirrored)
        mean[..., 0] = 0.5 * (direct[..., 0] + ((self.input_size - 1) - mirrored[..., 0]))
        return np.where(self._paired[None, :, :, None], mean, direct)
