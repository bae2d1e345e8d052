"""The 3DDFA_V2 landmark teacher: RGB photo + ROI -> 68 3D landmarks in image pixels.

Recipe (3DDFA_V2, reproduced and checked on AFLW2000-3D, see docs/teacher.md):

1. :func:`~facerecon.data.teacher.roi.crop_roi_bgr`: square ROI, BGR, zero padding,
   bilinear resize to 120x120; input ``(pixel - 127.5) / 128``.
2. The network gives 62 normalised values; ``param = out * std + mean``.
3. ``param[:12]`` is the row-major 3x4 ``[s*R | t]``; ``param[12:52]`` 40 shape and
   ``param[52:62]`` 10 expression coefficients.
4. ``shape = u + W_shp a + W_exp b`` reshaped to (3, 68) in Fortran order (the bases
   interleave x, y, z per vertex); ``v = sR @ shape + t``.
5. In the 120 crop: ``x -= 1``, ``y = 120 - y``, ``z -= 1`` (3DDFA_V2's flip: BFM has y up
   and z towards the viewer, so the result has y down and larger z nearer, our convention);
   then :func:`~facerecon.data.teacher.roi.crop_to_image`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from facerecon.data.teacher.assets import TeacherAssets, cached_state_dict, read_assets
from facerecon.data.teacher.roi import CROP_SIZE, crop_roi_bgr, crop_to_image
from facerecon.errors import InvalidInputError, WeightsError


def decode_params(params: np.ndarray, assets: TeacherAssets) -> np.ndarray:
    """Turn de-normalised parameters into landmarks of the 120x120 crop.

    Args:
        params: (B, 62) float32, already ``out * std + mean``.
        assets: the 68-point bases.

    Returns:
        (B, 68, 3) float32 in crop pixels (x right, y down, larger z nearer).
    """
    params = np.asarray(params, dtype=np.float32).reshape(-1, 62)
    pose = params[:, :12].reshape(-1, 3, 4)
    # (204, B): one column of stacked xyz per face.
    flat = (
        assets.u_base
        + assets.w_shp_base @ params[:, 12:52].T
        + assets.w_exp_base @ params[:, 52:].T
    )
    shape = flat.T.reshape(-1, 68, 3).transpose(0, 2, 1)  # Fortran (3, 68) per face
    points = pose[:, :, :3] @ shape + pose[:, :, 3:]  # (B, 3, 68)
    points = points.transpose(0, 2, 1).copy()
    points[..., 0] -= 1.0
    points[..., 1] = CROP_SIZE - points[..., 1]
    points[..., 2] -= 1.0
    return points.astype(np.float32)


class Teacher:
    """3DDFA_V2's MobileNet-0.5 (our PyTorch port) predicting 68 3D landmarks.

    Build it with :meth:`from_folder`; the weights are converted once to safetensors in the
    user cache. Predictions are (68, 3) float32 image pixels: x right, y down, z in the same
    pixel scale with larger z nearer the camera and an arbitrary origin.
    """

    def __init__(self, network, assets: TeacherAssets):
        self.network = network.eval()
        self.assets = assets

    @classmethod
    def from_folder(cls, folder: str | Path) -> Teacher:
        """Load from a folder laid out like ``shared/data/teacher-3ddfa``."""
        from facerecon.data.teacher.network import MobileNetV1

        assets = read_assets(folder)
        network = MobileNetV1()
        try:
            network.load_state_dict(cached_state_dict(folder), strict=True)
        except RuntimeError as error:
            raise WeightsError(f"teacher weights do not match the network: {error}") from error
        return cls(network, assets)

    def run_network(self, crops_bgr: np.ndarray) -> np.ndarray:
        """(B, 120, 120, 3) uint8 BGR crops -> (B, 62) float32 de-normalised parameters."""
        import torch

        crops_bgr = np.asarray(crops_bgr)
        if crops_bgr.ndim != 4 or crops_bgr.shape[1:] != (CROP_SIZE, CROP_SIZE, 3):
            raise InvalidInputError(f"crops must be (B, 120, 120, 3), got {crops_bgr.shape}")
        tensor = torch.from_numpy(np.ascontiguousarray(crops_bgr.transpose(0, 3, 1, 2)))
        tensor = (tensor.float() - 127.5) / 128.0
        with torch.inference_mode():
            out = self.network(tensor).numpy()
        return out * self.assets.param_std + self.assets.param_mean

    def predict_batch(self, images: Sequence[np.ndarray], rois) -> np.ndarray:
        """Landmarks for several (image, ROI) pairs in one network call.

        Args:
            images: B RGB uint8 images (H, W, 3); the same image may appear several times.
            rois: (B, 4) ``xyxy`` square ROIs (see :func:`.roi.roi_from_box`).

        Returns:
            (B, 68, 3) float32 image pixels.
        """
        rois = np.asarray(rois, dtype=np.float32).reshape(-1, 4)
        if len(images) != len(rois):
            raise InvalidInputError(f"{len(images)} images but {len(rois)} ROIs")
        if len(rois) == 0:
            return np.zeros((0, 68, 3), dtype=np.float32)
        crops = np.stack(
            [crop_roi_bgr(image, roi) for image, roi in zip(images, rois, strict=True)]
        )
        points = decode_params(self.run_network(crops), self.assets)
        return crop_to_image(points, rois)

    def predict(self, image: np.ndarray, roi) -> np.ndarray:
        """(68, 3) float32 landmarks of one face given its ``xyxy`` ROI in an RGB image."""
        return self.predict_batch([image], np.asarray(roi, dtype=np.float32)[None])[0]
