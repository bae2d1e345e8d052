"""One worker process of :mod:`facerecon.data.build`: turns a shard's photos into samples.

The worker keeps the ICT model, the fitter, the topologies and (when a shard has UTKFace
photos) the teacher in process globals, loaded once by :func:`init_worker` / on first use.
Each worker uses one thread (numba, OpenCV, torch, BLAS via the environment the parent sets
before spawning), so ``--workers`` is the number of cores used.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from facerecon.errors import FaceReconError

_STATE: dict = {}


def init_worker() -> None:
    """Single-threaded libraries in this process (the build parallelises over processes)."""
    import cv2
    import numba

    cv2.setNumThreads(1)
    numba.set_num_threads(1)


def _models(shared_data: Path, config: dict) -> dict:
    key = (str(shared_data), config["posmap_resolution"], config["texture_resolution"],
           config["snap_mouth_open"])
    if _STATE.get("key") != key:
        from facerecon.morphable.fit import IctFitter
        from facerecon.morphable.ict import load_ict
        from facerecon.morphable.snap import LandmarkSnap
        from facerecon.topology import load_topology

        model = load_ict(shared_data / "ict-facekit" / "FaceXModel")
        _STATE.clear()
        _STATE.update(key=key, model=model, fitter=IctFitter(model),
                      snap=LandmarkSnap.for_model(model, config["snap_mouth_open"]),
                      topology=load_topology(config["posmap_resolution"]),
                      texture_topology=load_topology(config["texture_resolution"]))
    return _STATE


def _teacher(shared_data: Path):
    if "teacher" not in _STATE:
        import torch

        from facerecon.data.teacher import Teacher

        torch.set_num_threads(1)
        _STATE["teacher"] = Teacher.from_folder(shared_data / "teacher-3ddfa")
    return _STATE["teacher"]


def teacher_landmarks(teacher, images: list[np.ndarray],
                      first_rois: np.ndarray | None = None) -> np.ndarray:
    """(B, 68, 3) teacher landmarks in two passes: ROI ``first_rois`` ((B, 4) ``xyxy``; None:
    the whole image, for aligned face photos), then a second pass with the ``landmarks`` ROI
    rule around the first pass (3DDFA_V2's re-crop)."""
    from facerecon.data.teacher import landmark_box, roi_from_box

    if not images:
        return np.zeros((0, 68, 3), np.float32)
    if first_rois is None:
        whole = []
        for image in images:
            height, width = image.shape[:2]
            side = float(max(height, width))
            cx, cy = (width - 1) / 2.0, (height - 1) / 2.0
            whole.append([cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2])
        first_rois = np.array(whole, np.float32)
    first = teacher.predict_batch(images, np.asarray(first_rois, np.float32))
    rois = np.stack([roi_from_box(landmark_box(points), "landmarks") for points in first])
    return teacher.predict_batch(images, rois)


def _photo_labels(shared_data: Path, records, images, config: dict
                  ) -> list[tuple[np.ndarray, str]]:
    """Per record its 68 labels and their kind: ``teacher3d`` (68, 3) for UTKFace and for
    300-W training photos with ``labels_300w`` "teacher" (first ROI from the human landmark
    box), their x, y ``teacher2d`` (68, 2) with "teacher_2d", else the human ``.pts`` points
    ``human2d`` (68, 2)."""
    from facerecon.data.pts import read_pts
    from facerecon.data.teacher import landmark_box, roi_from_box

    human = {i: read_pts(shared_data / record.path.replace(".jpg", ".pts"))
             for i, record in enumerate(records) if record.source != "utkface"}
    whole = [i for i, record in enumerate(records) if record.source == "utkface"]
    boxed = [i for i in human
             if config["labels_300w"] != "human" and records[i].split == "train"]
    labels = {i: (points, "human2d") for i, points in human.items()}
    if whole or boxed:
        teacher = _teacher(shared_data)
        labels.update((i, (points, "teacher3d")) for i, points in zip(
            whole, teacher_landmarks(teacher, [images[i] for i in whole]), strict=True))
        rois = np.array([roi_from_box(landmark_box(human[i]), "landmarks") for i in boxed],
                        np.float32).reshape(-1, 4)
        points = teacher_landmarks(teacher, [images[i] for i in boxed], rois)
        if config["labels_300w"] == "teacher_2d":
            labels.update((i, (p[:, :2], "teacher2d")) for i, p in zip(boxed, points, strict=True))
        else:
            labels.update((i, (p, "teacher3d")) for i, p in zip(boxed, points, strict=True))
    return [labels[i] for i in range(len(records))]


def teacher_fit_weights(jaw_weight: float) -> np.ndarray | None:
    """(68,) fit weights for the teacher's 3D points: ``jaw_weight`` on the jaw (iBUG 0-16),
    1 elsewhere; None (plain fit) at weight 1."""
    from facerecon.topology.regions import JAW

    if jaw_weight == 1.0:
        return None
    weights = np.ones(68)
    weights[list(JAW)] = jaw_weight
    return weights


def teacher_jaw_as_outline(points: np.ndarray) -> np.ndarray:
    """The teacher's (68, 3) points with the jaw's z (iBUG 0-16) set to NaN: the fit and the
    snap then treat the jaw as a 2D outline on the silhouette, as the annotators' jaw, and
    the inner 51 points in 3D (:meth:`facerecon.morphable.fit.IctFitter.fit`)."""
    from facerecon.topology.regions import JAW

    outline = np.array(points, dtype=np.float32)
    outline[list(JAW), 2] = np.nan
    return outline


def _sample_dict(sample, meta: dict, annotation: np.ndarray) -> dict:
    from facerecon.data.shards import encode_jpeg

    return {"jpeg": encode_jpeg(sample.image), "posmap": sample.posmap,
            "landmarks": sample.landmarks, "visible": sample.visible,
            "annotation": annotation, "meta": meta}


def _photo_samples(record, image, landmarks, labels: str, config: dict, state: dict,
                   residuals: list, dropped: dict) -> list[dict]:
    from facerecon.data.build import photo_rng
    from facerecon.data.groundtruth import crop_for_face, fit_photo, make_sample
    from facerecon.data.profile import build_scene, render_view, view_targets

    size = config["crop_size"]
    snap = state["snap"] if config["snap_landmarks"] else None
    weights = None
    if labels == "teacher3d":
        weights = teacher_fit_weights(config["teacher_jaw_weight"])
        if config["teacher_jaw_outline"]:
            landmarks = teacher_jaw_as_outline(landmarks)
    photo = fit_photo(image, landmarks, state["fitter"], state["model"], snap, weights)
    residuals.append(round(float(photo.fit.residual_nme), 5))
    if not photo.fit.is_plausible(config["max_residual_nme"]):
        reason = "residual" if photo.fit.faces_camera else "facing_away"
        dropped[reason] = dropped.get(reason, 0) + 1
        return []
    pose = photo.fit.pose
    base = {"source": record.source, "image_id": record.image_id,
            "split_key": record.split_key, "split": record.split, "labels": labels,
            "fit_residual_nme": round(float(photo.fit.residual_nme), 5),
            "fit_residual_px": round(float(photo.fit.residual_px), 3),
            "source_yaw": round(pose.yaw, 2), "source_pitch": round(pose.pitch, 2),
            "source_roll": round(pose.roll, 2)}
    real = make_sample(photo, state["topology"], size)
    crop = crop_for_face(photo.vertices, state["topology"], size)
    annotation = crop.to_crop(photo.annotation).astype(np.float32)
    samples = [_sample_dict(real, {**base, "synthetic": False, "view": 0,
                                   "yaw": round(real.yaw, 2), "pitch": round(real.pitch, 2),
                                   "roll": round(real.roll, 2),
                                   "crop_matrix": np.round(crop.matrix, 6).tolist()},
                            annotation)]
    targets = view_targets(photo_rng(config["seed"], record.image_id), pose.yaw, pose.pitch,
                           config["rotations"], config["yaw_step"], config["max_turn"],
                           config["pitch_spread"], config["pitch_limit"],
                           config["pitch_shift"])
    if targets:
        scene = build_scene(photo, state["texture_topology"])
        nothing = np.full((68, 3), np.nan, np.float32)
        for view, (yaw, pitch) in enumerate(targets, start=1):
            rendered = render_view(scene, yaw, pitch, state["topology"], size)
            samples.append(_sample_dict(rendered, {**base, "synthetic": True, "view": view,
                                                   "yaw": round(rendered.yaw, 2),
                                                   "pitch": round(rendered.pitch, 2),
                                                   "roll": round(rendered.roll, 2),
                                                   "crop_matrix": None}, nothing))
    return samples


def process_shard(job) -> dict:
    """Build one shard and write it; returns its ``shard_info`` plus ``seconds`` taken.

    ``residual_nme`` lists every fitted photo's residual, dropped ones included."""
    from facerecon.data.shards import SHARD_SUFFIX, write_shard
    from facerecon.imageio import read_image

    shared_data, output, config, spec = job
    shared_data = Path(shared_data)
    start, cpu_start = time.perf_counter(), time.process_time()
    state = _models(shared_data, config)
    images = [read_image(shared_data / record.path) for record in spec.records]
    labels = _photo_labels(shared_data, spec.records, images, config)
    samples: list[dict] = []
    dropped: dict[str, int] = {}
    residuals: list[float] = []
    for index, record in enumerate(spec.records):
        landmarks, kind = labels[index]
        try:
            made = _photo_samples(record, images[index], landmarks, kind, config, state,
                                  residuals, dropped)
        except FaceReconError as error:
            reason = type(error).__name__
            dropped[reason] = dropped.get(reason, 0) + 1
            continue
        samples.extend(made)
    # No timing in the file: its bytes must depend on the config only.
    info = {"name": spec.name, "photos": len(spec.records), "samples": len(samples),
            "dropped": dropped, "residual_nme": residuals}
    write_shard(Path(output) / f"{spec.name}{SHARD_SUFFIX}", samples, info)
    return {**info, "seconds": round(time.perf_counter() - start, 2),
            "cpu_seconds": round(time.process_time() - cpu_start, 2)}
