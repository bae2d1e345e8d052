"""Training configuration: a dataclass with defaults, overridden by YAML and ``key=value``.

A YAML file holds a mapping with the field names of :class:`TrainConfig`; the nested
``augment`` mapping holds those of :class:`AugmentConfig`. Command-line overrides use dotted
keys (``augment.rotation_deg=30``) and YAML values (``bf16=false``, ``max_steps=null``).
Unknown keys, wrong types and out-of-range values raise :class:`InvalidInputError` naming
the key, so a typo never silently trains with a default.

>>> config = apply_overrides(TrainConfig(), ["lr=0.002", "augment.rotation_deg=30"])
>>> config.lr, config.augment.rotation_deg
(0.002, 30.0)
"""

from __future__ import annotations

import dataclasses
import os
import typing
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from facerecon.errors import DataNotFoundError, InvalidInputError


@dataclass
class AugmentConfig:
    """PRN's augmentation (Feng et al. 2018, sec. 4.1) plus synthetic occlusion.

    The geometric part is one 2D similarity about the crop centre, applied alike to the
    image and to the position map's x, y (z is multiplied by the scale).
    """

    enabled: bool = True
    rotation_deg: float = 45.0  # uniform in [-r, r]
    translation: float = 0.1  # uniform in [-t, t] x crop side, per axis
    scale_min: float = 0.9
    scale_max: float = 1.2
    # Largest stretch of the face's width against its height (1: none; 1.1: x and y scaled
    # by sqrt(a) and 1/sqrt(a), a log-uniform in [1/1.1, 1.1]). Off in runs v1-v12.
    aspect_max: float = 1.0
    color_min: float = 0.6  # per-channel gain, uniform in [min, max]
    color_max: float = 1.4
    occlusion_prob: float = 0.5  # chance a sample gets occluders at all
    occlusion_max_count: int = 2  # 1..max rectangles/ellipses per occluded sample
    occlusion_min_size: float = 0.1  # side (or diameter) as a fraction of the crop
    occlusion_max_size: float = 0.4
    # Chance that the black parts of a crop (outside the photo: UTKFace's tight photos, the
    # similarity's padding) get a background: another crop of the batch or smooth noise.
    background_prob: float = 0.8
    # Share of those backgrounds that continue the photo instead: each black pixel takes the
    # nearest photo pixel in its column (else in its row), so a tight photo's neck, hair and
    # cheeks run on to the crop's edge and the face no longer ends where the photo ends.
    # Off in runs v1-v19.
    background_replicate: float = 0.0
    # Chance that a sample is mirrored left-right (image, and the position map's UV columns
    # and x: the UV layout is left-right symmetric). Off in runs v1-v3.
    flip_prob: float = 0.0
    # Chance that a crop is shrunk by a factor uniform in [lowres_min_scale, 1) (area
    # average) and enlarged back (bilinear): a face seen with fewer pixels or out of focus.
    # The position map is unchanged. Off in runs v1-v8.
    lowres_prob: float = 0.0
    lowres_min_scale: float = 0.4
    # Chance that everything outside a random rectangle around the face is made black
    # (before the background step), its edges from outside the face to into it
    # (facerecon.train.augment.FRAME_OFFSETS): UTKFace's tight photos end just below the chin,
    # so the photo's own edge told the network where the chin is. Off in runs v1-v19.
    frame_prob: float = 0.0

    def check(self) -> None:
        if not 0 <= self.rotation_deg <= 180 or not 0 <= self.translation <= 0.5:
            raise InvalidInputError("augment: rotation_deg in [0, 180], translation in [0, 0.5]")
        if not 0 < self.scale_min <= self.scale_max:
            raise InvalidInputError("augment: need 0 < scale_min <= scale_max")
        if not 1 <= self.aspect_max <= 2:
            raise InvalidInputError("augment: aspect_max in [1, 2]")
        if not 0 <= self.color_min <= self.color_max:
            raise InvalidInputError("augment: need 0 <= color_min <= color_max")
        if not 0 <= self.flip_prob <= 1:
            raise InvalidInputError("augment: flip_prob in [0, 1]")
        if not 0 <= self.lowres_prob <= 1 or not 0 < self.lowres_min_scale <= 1:
            raise InvalidInputError("augment: lowres_prob in [0, 1], lowres_min_scale in (0, 1]")
        if not 0 <= self.occlusion_prob <= 1 or self.occlusion_max_count < 1:
            raise InvalidInputError("augment: occlusion_prob in [0, 1], occlusion_max_count >= 1")
        if not 0 < self.occlusion_min_size <= self.occlusion_max_size <= 1:
            raise InvalidInputError("augment: need 0 < occlusion_min_size <= max_size <= 1")
        if not 0 <= self.background_prob <= 1:
            raise InvalidInputError("augment: background_prob in [0, 1]")
        if not 0 <= self.background_replicate <= 1:
            raise InvalidInputError("augment: background_replicate in [0, 1]")
        if not 0 <= self.frame_prob <= 1:
            raise InvalidInputError("augment: frame_prob in [0, 1]")


@dataclass
class TrainConfig:
    """Everything a training run depends on (saved in checkpoints and exported weights)."""

    model: str = "mobile_posmap128"  # a name from facerecon.models.list_models()
    init_weights: str = ""  # .safetensors to start from (fine-tuning); "": random init
    data_dir: str = ""  # the -o folder of `facerecon data build`
    # More build folders whose train shards join data_dir's (a union of builds, e.g. two
    # pitch recipes); validation stays on data_dir's val split, comparable across runs.
    extra_data_dirs: list[str] = field(default_factory=list)
    output_dir: str = "runs/mobile_posmap128"
    epochs: int = 10
    batch_size: int = 32
    optimizer: str = "adam"  # "adam" or "adamw"
    lr: float = 1e-3
    weight_decay: float = 0.0
    schedule: str = "cosine"  # "cosine" (to min_lr_ratio * lr) or "step"
    warmup_steps: int = 0  # linear ramp from 0 before the schedule
    min_lr_ratio: float = 0.01
    step_epochs: int = 3  # "step": multiply by step_gamma every step_epochs epochs
    step_gamma: float = 0.5
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    # Weight of the gradient loss (neighbour differences against the target's, a smoother
    # surface; facerecon.train.losses) added to PRN's loss. 0 (off) in runs v1-v11.
    gradient_loss_weight: float = 0.0
    # Weight of the landmark loss (the 68 landmarks decoded from the map as the pipeline reads
    # them, squared 3D error; facerecon.train.losses.landmark_loss) added to PRN's loss, for
    # the mirrored pass too (averaged) under mirror consistency. 0 (off) in runs v1-v24.
    landmark_loss_weight: float = 0.0
    # Mirror consistency (ours): > 0 runs every batch also mirrored left-right, maps the
    # mirror's prediction back (facerecon.train.augment.mirror_posmaps) and minimises
    #   (PRN(pred, target) + PRN(back, target)) / 2 + weight * PRN(pred, back)
    # (PRN = PRN's weighted loss), so that one pass learns what --flip-average gets from two.
    # Steps cost about twice as much. 0 (off) in runs v1-v13.
    mirror_consistency_weight: float = 0.0
    # With mirror consistency: clip the targets' x to [0, S - 1] in that loss. The mirrored
    # pass mapped back (x -> S - 1 - x) reaches [-0.1 S, S - 1] only, so a target beyond the
    # crop's right edge (a face leaving it) pulls the two passes apart there, a one-sided
    # pull the left edge does not have. False in runs v14-v17 (model v6's recipe).
    mirror_targets_in_crop: bool = False
    # Every training sample from a 300-W photo (the photo and its synthetic views) appears
    # this many times per epoch instead of once: 300-W's in-the-wild photos are 9 % of the
    # builds' samples (UTKFace's aligned portraits the rest) and the network's weaker domain.
    # 1 (off) in runs v1-v16.
    repeat_300w: int = 1
    bf16: bool = True  # bfloat16 autocast (CPU and CUDA)
    channels_last: bool = True
    device: str = "auto"  # "auto" (cuda if available, else cpu), "cpu", "cuda", "cuda:1"
    threads: int = 0  # torch CPU threads; 0 leaves torch's default
    workers: int = 1  # DataLoader worker processes (0: load in the training process)
    seed: int = 0
    val_every_epochs: int = 1
    val_max_samples: int = 0  # 0: the whole val split
    checkpoint_every_steps: int = 500
    log_every_steps: int = 20
    max_steps: int = 0  # 0: no limit; stops early, the schedule still spans `epochs`
    max_minutes: float = 0.0  # 0: no limit; wall-clock time box, checked after each step

    def check(self) -> None:
        """Raise :class:`InvalidInputError` for values no run could use."""
        positive = ("epochs", "batch_size", "val_every_epochs", "checkpoint_every_steps",
                    "log_every_steps", "repeat_300w")
        for name in positive:
            if getattr(self, name) < 1:
                raise InvalidInputError(f"{name} must be >= 1, got {getattr(self, name)}")
        non_negative = ("warmup_steps", "threads", "workers", "val_max_samples", "max_steps",
                        "max_minutes", "weight_decay", "gradient_loss_weight",
                        "landmark_loss_weight", "mirror_consistency_weight")
        for name in non_negative:
            if getattr(self, name) < 0:
                raise InvalidInputError(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.optimizer not in ("adam", "adamw"):
            raise InvalidInputError(f"optimizer must be adam or adamw, got {self.optimizer!r}")
        if self.schedule not in ("cosine", "step"):
            raise InvalidInputError(f"schedule must be cosine or step, got {self.schedule!r}")
        if not self.lr > 0 or not 0 <= self.min_lr_ratio <= 1 or not 0 < self.step_gamma <= 1:
            raise InvalidInputError("need lr > 0, min_lr_ratio in [0, 1], step_gamma in (0, 1]")
        if self.step_epochs < 1:
            raise InvalidInputError("step_epochs must be >= 1")
        if not (self.device in ("auto", "cpu", "cuda") or self.device.startswith("cuda:")):
            raise InvalidInputError(
                f"device must be auto, cpu, cuda or cuda:N, got {self.device!r}")
        if not self.data_dir:
            raise InvalidInputError("data_dir is not set (the folder of `facerecon data build`)")
        folders = [str(Path(folder)) for folder in self.train_data_dirs]
        if any(not folder for folder in self.extra_data_dirs) or len(set(folders)) < len(folders):
            raise InvalidInputError(
                f"extra_data_dirs must name other build folders than data_dir, once each; got "
                f"data_dir {self.data_dir!r}, extra_data_dirs {self.extra_data_dirs!r}")
        self.augment.check()

    @property
    def train_data_dirs(self) -> list[str]:
        """The build folders whose train shards the run trains on, ``data_dir`` first."""
        return [self.data_dir, *self.extra_data_dirs]

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def _coerce(value, annotation, key: str):
    """``value`` as the field type, or an error naming ``key``; ints and "5e-4" pass as floats."""
    kind = typing.get_origin(annotation) or annotation
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if kind is float and isinstance(value, str):
        # YAML 1.1 reads "5e-4" (no dot) as a string; take it as the number it means.
        try:
            return float(value)
        except ValueError:
            pass
    if kind in (int, float, str, bool) and type(value) is not kind:
        raise InvalidInputError(f"{key}: expected {kind.__name__}, got {value!r}")
    if kind is list:
        (item,) = typing.get_args(annotation)
        if not isinstance(value, list) or any(type(entry) is not item for entry in value):
            raise InvalidInputError(f"{key}: expected a list of {item.__name__}, got {value!r}")
        return list(value)
    return value


def _update(instance, values: dict, prefix: str = ""):
    hints = typing.get_type_hints(type(instance))
    names = {f.name for f in dataclasses.fields(instance)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise InvalidInputError(
            f"unknown config key(s) {', '.join(prefix + key for key in unknown)}; "
            f"known: {', '.join(sorted(prefix + name for name in names))}")
    changes = {}
    for key, value in values.items():
        current = getattr(instance, key)
        if dataclasses.is_dataclass(current):
            if not isinstance(value, dict):
                raise InvalidInputError(f"{prefix}{key} must be a mapping, got {value!r}")
            changes[key] = _update(current, value, f"{prefix}{key}.")
        else:
            changes[key] = _coerce(value, hints[key], prefix + key)
    return dataclasses.replace(instance, **changes)


def from_dict(values: dict) -> TrainConfig:
    """A config from a (possibly partial) nested mapping, e.g. a checkpoint's copy."""
    if not isinstance(values, dict):
        raise InvalidInputError(f"a config must be a mapping, got {type(values).__name__}")
    return _update(TrainConfig(), values)


def apply_overrides(config: TrainConfig, overrides: list[str]) -> TrainConfig:
    """Apply ``key=value`` strings (dotted keys, YAML values); returns a new config."""
    for item in overrides:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise InvalidInputError(f"override {item!r} must look like key=value")
        try:
            value = yaml.safe_load(text) if text.strip() else ""
        except yaml.YAMLError as error:
            raise InvalidInputError(f"override {item!r}: not a YAML value ({error})") from error
        nested: dict = {}
        cursor = nested
        *parents, leaf = key.strip().split(".")
        for part in parents:
            cursor = cursor.setdefault(part, {})
        cursor[leaf] = value
        config = _update(config, nested)
    return config


def load_config(path: str | os.PathLike | None, overrides: list[str] = ()) -> TrainConfig:
    """Defaults, then the YAML file at ``path`` (if any), then ``overrides``; validated.

    Raises:
        DataNotFoundError: ``path`` does not exist.
        InvalidInputError: bad YAML, unknown keys, wrong types or values.
    """
    config = TrainConfig()
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise DataNotFoundError(f"no config file {path}")
        try:
            values = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as error:
            raise InvalidInputError(f"{path}: not valid YAML ({error})") from error
        if not isinstance(values, dict):
            raise InvalidInputError(f"{path}: the top level must be a mapping")
        config = _update(config, values)
    config = apply_overrides(config, list(overrides))
    config.check()
    return config
