"""``facerecon data build``: the whole training-data chain over the shared sources, in shards.

Sources (``shared_data`` laid out as shared/data, README there):

- ``300w/helen-train`` and ``300w/afw``: human 68-point 2D annotations (``.pts``), fitted
  with the jaw as a silhouette; with ``labels_300w`` "teacher" or "teacher_2d" the training
  photos are labelled by the teacher instead (ROI from the human landmark box, then the
  ``landmarks`` rule around that first pass), fitted with depth like UTKFace's or as 2D points.
- ``utkface``: no annotations; the 3DDFA_V2 teacher labels each photo in two passes (ROI =
  the whole image, then the ``landmarks`` ROI rule around the first pass) and the fit uses
  the teacher's 3D points, its jaw points weighted by ``teacher_jaw_weight`` (and, with
  ``teacher_jaw_outline``, fitted and snapped as a 2D outline).

AFLW2000-3D is never read here (it is the test set).

Per photo (:mod:`.groundtruth`, :mod:`.profile`): fit, drop if the residual is too high, the
real crop and its position map, then ``rotations`` synthetic views at new head poses. All
views of a photo go to the photo's split. Splits are identity-disjoint and fixed (not seeded):
a 300-W photo's key is its photo id (the file stem without the ``_<face>`` suffix, so faces
of one photo stay together); a UTKFace photo's key is its file name (UTKFace holds mostly one
photo per person). ``val`` if sha1(source group + key) falls below the split's fraction: the
one rule of :mod:`facerecon.data.splits`, shared with the evaluation.

Shards: photos of one split are ordered by id, shuffled with the seed, and cut into groups of
``photos_per_shard``; shard ``<split>-<index>.npz`` holds all samples of its group
(:mod:`.shards`). A shard is the unit of work, resume and determinism: a finished shard file
is skipped on a rerun, a shard is written atomically, and its bytes depend only on the
config (per-photo random numbers come from (seed, photo id), never from the worker).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from facerecon.data.splits import VAL_FRACTION, photo_id_300w, split_of
from facerecon.errors import DataNotFoundError, InvalidInputError
from facerecon.morphable.fit import DROP_RESIDUAL_NME
from facerecon.morphable.snap import DEFAULT_MOUTH_OPEN

SOURCES_300W = ("300w/helen-train", "300w/afw")
SOURCE_UTKFACE = "utkface"
LABELS_300W = ("human", "teacher", "teacher_2d")  # BuildConfig.labels_300w
_THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                     "NUMBA_NUM_THREADS")
#: Yaw histogram bin edges (degrees): 15-degree bins centred on the view targets -90..90.
YAW_BINS = tuple(float(edge) for edge in np.arange(-97.5, 97.6, 15.0))


@dataclass(frozen=True)
class BuildConfig:
    """Everything a build's bytes depend on (stored in the output's ``config.json``)."""

    rotations: int = 4
    yaw_step: float = 15.0
    max_turn: float = 90.0
    pitch_spread: float = 40.0  # synthetic pitch = photo pitch + U(-spread, spread) (build v2: 20)
    pitch_limit: float = 45.0  # ... kept within +-limit degrees (build v2: 30)
    pitch_shift: float = 0.0  # ... + shift degrees (> 0: more views look up; build v4: 6)
    crop_size: int = 256
    posmap_resolution: int = 128
    texture_resolution: int = 128
    photos_per_shard: int = 100
    seed: int = 0
    limit: int | None = None
    val_fraction_300w: float = VAL_FRACTION["300w"]
    val_fraction_utkface: float = VAL_FRACTION["utkface"]
    max_residual_nme: float = DROP_RESIDUAL_NME
    snap_landmarks: bool = True  # move each fitted face onto its labels (morphable.snap)
    snap_mouth_open: float = DEFAULT_MOUTH_OPEN  # jawOpen of the snap's kernel (builds <= v4: 0)
    # labels of 300-W's *training* photos (val keeps the human points, the 300-W benchmark's
    # truth): "human" (their 2D annotation), "teacher" (the teacher's 3D points, fitted with
    # depth like UTKFace's: one convention for every training label) or "teacher_2d" (the
    # teacher's x, y fitted as 2D points, so depth comes from the fit's prior as for "human")
    labels_300w: str = "human"
    # weight of the teacher's 17 jaw points (iBUG 0-16) in the ICT fit of its 3D points (the
    # snap still moves the jaw onto them): they are not ICT's jaw vertices, and at weight 1
    # the fit inflates the face (scale +15 %, depth extent +16-17 %) to reach them (docs/data.md,
    # build v8); builds <= v7: 1
    teacher_jaw_weight: float = 1.0
    # the teacher's jaw as an outline: its 17 jaw points fitted and snapped in x, y only, on
    # the silhouette vertices under the photo's pose, as the annotators' jaw is; its inner 51
    # points keep their z (build v10); builds <= v9: False (the jaw's z is the teacher's)
    teacher_jaw_outline: bool = False
    sources: tuple[str, ...] = (*SOURCES_300W, SOURCE_UTKFACE)

    def check(self) -> None:
        if self.rotations < 0 or self.photos_per_shard < 1 or self.crop_size < 16:
            raise InvalidInputError("rotations >= 0, photos_per_shard >= 1, crop_size >= 16")
        if not 0 <= self.pitch_spread <= 90 or not 0 <= self.pitch_limit <= 90:
            raise InvalidInputError("pitch_spread and pitch_limit must lie in [0, 90] degrees")
        if not -45 <= self.pitch_shift <= 45:
            raise InvalidInputError("pitch_shift must lie in [-45, 45] degrees")
        if not 0 <= self.snap_mouth_open <= 1:
            raise InvalidInputError("snap_mouth_open must lie in [0, 1]")
        if self.labels_300w not in LABELS_300W:
            raise InvalidInputError(f"labels_300w must be one of {LABELS_300W}")
        if not 0 <= self.teacher_jaw_weight <= 1:
            raise InvalidInputError("teacher_jaw_weight must lie in [0, 1]")
        if self.posmap_resolution not in (128, 256) or self.texture_resolution not in (128, 256):
            raise InvalidInputError("posmap and texture resolutions must be 128 or 256")
        unknown = set(self.sources) - {*SOURCES_300W, SOURCE_UTKFACE}
        if unknown:
            raise InvalidInputError(f"unknown sources {sorted(unknown)}")


@dataclass(frozen=True)
class PhotoRecord:
    """One photo to process: ``path`` relative to the shared data folder."""

    source: str
    path: str
    image_id: str
    split_key: str
    split: str


@dataclass(frozen=True)
class ShardSpec:
    name: str
    records: tuple[PhotoRecord, ...] = field(default_factory=tuple)


def list_photos(shared_data: str | Path, config: BuildConfig) -> list[PhotoRecord]:
    """All photos of the configured sources, sorted by id; a seeded subset with ``limit``."""
    root = Path(shared_data)
    records: list[PhotoRecord] = []
    for source in config.sources:
        folder = root / source
        if not folder.is_dir():
            raise DataNotFoundError(f"no source folder {folder}")
        if source == SOURCE_UTKFACE:
            for path in sorted(folder.glob("*.jpg")):
                records.append(PhotoRecord(source, f"{source}/{path.name}", f"{source}/{path.name}",
                                           path.name, split_of("utkface", path.name,
                                                               config.val_fraction_utkface)))
        else:
            for pts in sorted(folder.glob("*.pts")):
                photo_id = photo_id_300w(pts)
                records.append(PhotoRecord(source, f"{source}/{pts.stem}.jpg",
                                           f"{source}/{pts.stem}", photo_id,
                                           split_of("300w", photo_id, config.val_fraction_300w)))
    records.sort(key=lambda record: record.image_id)
    if config.limit is not None:
        rng = np.random.default_rng(config.seed)
        chosen = np.sort(rng.permutation(len(records))[: config.limit])
        records = [records[i] for i in chosen]
    return records


def plan_shards(records: list[PhotoRecord], config: BuildConfig) -> list[ShardSpec]:
    """Cut each split's photos (shuffled with the seed) into shards."""
    specs = []
    for split in ("train", "val"):
        members = sorted((r for r in records if r.split == split), key=lambda r: r.image_id)
        order = np.random.default_rng([config.seed, 1 if split == "val" else 0]).permutation(
            len(members))
        members = [members[i] for i in order]
        for index, start in enumerate(range(0, len(members), config.photos_per_shard)):
            chunk = tuple(members[start:start + config.photos_per_shard])
            specs.append(ShardSpec(f"{split}-{index:05d}", chunk))
    return specs


def photo_rng(seed: int, image_id: str) -> np.random.Generator:
    """The random numbers of one photo: a function of (seed, image id) only."""
    return np.random.default_rng([seed, int(hashlib.sha1(image_id.encode()).hexdigest()[:15], 16)])


#: Options added after builds had been made, with the value those builds used: a stored
#: ``config.json`` without the key was made with that value (the earlier builds of
#: docs/data.md).
LEGACY_VALUES = {"snap_landmarks": False, "pitch_spread": 20.0, "pitch_limit": 30.0,
                 "pitch_shift": 0.0, "snap_mouth_open": 0.0, "labels_300w": "human",
                 "teacher_jaw_weight": 1.0, "teacher_jaw_outline": False}


def config_document(config: BuildConfig) -> dict:
    document = asdict(config)
    document["sources"] = list(config.sources)
    return document


def prepare_output(output: str | Path, config: BuildConfig) -> None:
    """Create the output folder with its ``config.json``; a rerun must use the same config.

    A stored config without an option that came later counts as its :data:`LEGACY_VALUES`.

    Raises:
        InvalidInputError: the folder holds a build made with another config.
    """
    from facerecon.atomic import write_text

    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    path = output / "config.json"
    document = config_document(config)
    if path.is_file():
        existing = {**LEGACY_VALUES, **json.loads(path.read_text(encoding="utf-8"))}
        if existing != document:
            raise InvalidInputError(
                f"{output} holds a build with another config ({existing}); use a new folder")
        return
    write_text(path, json.dumps(document, indent=1, sort_keys=True) + "\n")


def pending_shards(output: str | Path, specs: list[ShardSpec]) -> list[ShardSpec]:
    """The shards whose file does not exist yet (a finished shard is never rewritten), val
    first: a build stopped early still has its validation split."""
    from facerecon.data.shards import SHARD_SUFFIX

    todo = [spec for spec in specs if not (Path(output) / f"{spec.name}{SHARD_SUFFIX}").is_file()]
    return sorted(todo, key=lambda spec: (not spec.name.startswith("val"), spec.name))


def run_shards(shared_data: str | Path, output: str | Path, config: BuildConfig,
               specs: list[ShardSpec], workers: int, on_done=None) -> list[dict]:
    """Process ``specs`` with ``workers`` spawned processes of one thread each (1: in this
    process).

    ``on_done(info)`` is called in this process after each finished shard (progress bars).
    Returns the shard infos in completion order.
    """
    from facerecon.data.build_worker import init_worker, process_shard

    jobs = [(str(shared_data), str(output), config_document(config), spec) for spec in specs]
    infos = []
    if workers <= 1:
        # In this process the caller's thread settings stay as they are (results do not
        # depend on them: tested byte for byte against the multi-process build).
        for job in jobs:
            infos.append(process_shard(job))
            if on_done:
                on_done(infos[-1])
        return infos
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    # One thread per worker: spawned children read these at start; ours are put back.
    saved = {name: os.environ.get(name) for name in _THREAD_VARIABLES}
    os.environ.update({name: "1" for name in _THREAD_VARIABLES})
    try:
        pool = context.Pool(workers, initializer=init_worker)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    with pool:
        for info in pool.imap_unordered(process_shard, jobs):
            infos.append(info)
            if on_done:
                on_done(info)
    return infos


def summarise(output: str | Path, config: BuildConfig) -> dict:
    """Counts, yaw histograms, drops and residuals over every shard in ``output``."""
    from facerecon.data.shards import list_shards, read_shard_info, read_shard_meta

    counts: dict[str, dict[str, int]] = {}
    yaws = {"real": [], "synthetic": []}
    dropped: dict[str, int] = {}
    residuals: list[float] = []
    photos = 0
    size = 0
    shards = list_shards(output)
    for path in shards:
        info = read_shard_info(path)
        photos += info["photos"]
        size += path.stat().st_size
        residuals += info["residual_nme"]
        for reason, number in info["dropped"].items():
            dropped[reason] = dropped.get(reason, 0) + number
        for meta in read_shard_meta(path):
            kind = "synthetic" if meta["synthetic"] else "real"
            key = f"{meta['split']}/{meta['source']}/{kind}"
            counts.setdefault(meta["split"], {})
            counts[meta["split"]][key] = counts[meta["split"]].get(key, 0) + 1
            yaws[kind].append(meta["yaw"])
    edges = np.array(YAW_BINS, dtype=np.float64)
    histogram = {kind: np.histogram(values, bins=edges)[0].tolist()
                 for kind, values in yaws.items()}
    total = sum(len(values) for values in yaws.values())
    quantiles = (np.percentile(residuals, [50, 90, 99]).round(5).tolist() if residuals
                 else [])
    return {"shards": len(shards), "samples": total, "photos": photos,
            "photos_dropped": dropped, "counts": counts,
            "yaw_histogram": {"edges_deg": list(YAW_BINS), **histogram},
            "abs_yaw_bins": _abs_yaw_bins(yaws),
            "residual_nme_p50_p90_p99": quantiles, "bytes": size,
            "config": config_document(config)}


def _abs_yaw_bins(yaws: dict) -> dict:
    values = np.abs(np.concatenate([np.asarray(v, dtype=np.float64) for v in yaws.values()]))
    return {"[0,30]": int((values <= 30).sum()),
            "(30,60]": int(((values > 30) & (values <= 60)).sum()),
            "(60,90]": int((values > 60).sum())}


def load_average() -> list[float]:
    """The machine's 1/5/15-minute load averages (for the timing notes)."""
    return [round(value, 2) for value in os.getloadavg()]
