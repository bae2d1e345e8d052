"""Position-map networks: a registry of factories with configs, weights I/O, inference.

Every network takes (B, 3, S, S) float32 crops normalised as its :class:`ModelConfig` says
and returns (B, 3, R, R) position maps: x, y, z in pixels of the input crop (x right, y down,
larger z nearer the camera). See docs/models.md.
"""

from facerecon.models.config import ModelConfig
from facerecon.models.device import resolve_device
from facerecon.models.inference import fold_batchnorm, freeze_for_cpu, prepare_for_inference
from facerecon.models.predict import predict_posmaps, predict_texels
from facerecon.models.registry import (
    DEFAULT_MODEL,
    WEIGHTS_DIR,
    create_model,
    get_config,
    list_models,
    register_model,
    shipped_refiner,
    shipped_weights,
)
from facerecon.models.texels import TexelNet, supports_texels
from facerecon.models.weights_io import load_weights, save_weights, weights_model

__all__ = [
    "DEFAULT_MODEL",
    "WEIGHTS_DIR",
    "ModelConfig",
    "TexelNet",
    "create_model",
    "fold_batchnorm",
    "freeze_for_cpu",
    "get_config",
    "list_models",
    "load_weights",
    "predict_posmaps",
    "predict_texels",
    "prepare_for_inference",
    "register_model",
    "resolve_device",
    "save_weights",
    "shipped_refiner",
    "shipped_weights",
    "supports_texels",
    "weights_model",
]
