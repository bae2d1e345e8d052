"""``facerecon data build`` and ``facerecon data profile`` (registered by cli/data.py).

``facerecon data build --shared-data DIR -o OUTDIR [--workers 2] [--seed 0] [--limit N]
[--rotations 4] [--posmap-resolution 128] [--crop-size 256] [--sources A,B]`` runs the whole
chain (fit, ground truth, large-pose views) over 300-W (helen-train, afw) and UTKFace into
shards plus ``manifest.json``; rerun the same command to resume (finished shards are kept). See
docs/data.md.

``facerecon data profile IMAGE... -o OUTDIR --shared-data DIR [--yaws=-60,30] [--sheet FILE]``
fits each photo (landmarks from the ``.pts`` beside it, else the teacher) and writes its
real crop and turned views (``<stem>_yaw<+YY>.jpg`` plus ``.npz`` with ``posmap``,
``landmarks``, ``visible``; targets more than 90 degrees from the photo's yaw are skipped, as
in the build), and optionally a contact sheet with the landmarks drawn
(filled green: visible; red rings: hidden by the face itself).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from pathlib import Path


def register(data_sub) -> None:
    from facerecon.data.build import LABELS_300W
    from facerecon.morphable.snap import DEFAULT_MOUTH_OPEN

    build = data_sub.add_parser("build", help="build the training shards (fit, crop, rotate)",
                                description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    build.add_argument("--shared-data", type=Path, required=True, help="shared/data folder")
    build.add_argument("-o", "--output", type=Path, required=True, help="output folder")
    build.add_argument("--workers", type=int, default=2)
    build.add_argument("--seed", type=int, default=0)
    build.add_argument("--limit", type=int, default=None, help="a seeded subset of N photos")
    build.add_argument("--rotations", type=int, default=4, help="synthetic views per photo")
    build.add_argument("--yaw-step", type=float, default=15.0)
    build.add_argument("--pitch-spread", type=float, default=40.0,
                       help="synthetic pitch = photo pitch + U(-S, S) degrees (build v2: 20)")
    build.add_argument("--pitch-limit", type=float, default=45.0,
                       help="synthetic pitch kept within +-L degrees (build v2: 30)")
    build.add_argument("--pitch-shift", type=float, default=0.0,
                       help="added to every synthetic pitch draw, degrees (> 0: more views "
                            "look up; build v4: 6)")
    build.add_argument("--posmap-resolution", type=int, default=128, choices=(128, 256))
    build.add_argument("--crop-size", type=int, default=256)
    build.add_argument("--photos-per-shard", type=int, default=100)
    build.add_argument("--no-snap", action="store_true",
                       help="keep the plain landmark fits (build-v1's recipe) instead of "
                            "snapping each fitted face onto its labels")
    build.add_argument("--snap-mouth-open", type=float, default=DEFAULT_MOUTH_OPEN,
                       help="jawOpen weight of the snap's kernel geometry, 0-1 (lets the snap "
                            "part lips the fit closed; builds v1-v4: 0)")
    build.add_argument("--labels-300w", choices=LABELS_300W, default="human",
                       help="labels of 300-W's training photos: their human 2D points, the "
                            "teacher's 3D points, or the teacher's x, y fitted as 2D points "
                            "(val keeps the human points)")
    build.add_argument("--teacher-jaw-weight", type=float, default=1.0,
                       help="weight of the teacher's jaw points in the fit of its 3D points, "
                            "0-1 (the snap still moves the jaw onto them; builds v1-v7: 1)")
    build.add_argument("--teacher-jaw-outline", action="store_true",
                       help="fit and snap the teacher's jaw points in x, y only, as an outline "
                            "on the silhouette like the annotators' jaw (its inner points keep "
                            "their z; builds v1-v9: off)")
    build.add_argument("--sources", default=None,
                       help="comma-separated source folders (default: 300w/helen-train,"
                       "300w/afw,utkface)")
    build.set_defaults(func=run_build)

    profile = data_sub.add_parser("profile", help="render a photo at large head poses",
                                  description=__doc__,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
    profile.add_argument("images", nargs="+", type=Path)
    profile.add_argument("-o", "--output", type=Path, required=True, help="output folder")
    profile.add_argument("--shared-data", type=Path, required=True,
                         help="shared/data folder (ICT-FaceKit, teacher)")
    profile.add_argument("--yaws", default="-90,-60,-30,30,60,90",
                         help="target yaws in degrees, comma separated")
    profile.add_argument("--pitch", type=float, default=None,
                         help="target pitch (default: the photo's own)")
    profile.add_argument("--crop-size", type=int, default=256)
    profile.add_argument("--sheet", type=Path, default=None, help="contact sheet (.jpg/.png)")
    profile.set_defaults(func=run_profile)


def _command_line() -> str:
    return " ".join(["facerecon", *sys.argv[1:]])


def run_build(args) -> int:
    from tqdm import tqdm

    from facerecon.atomic import write_text
    from facerecon.data.build import (
        BuildConfig,
        list_photos,
        load_average,
        pending_shards,
        plan_shards,
        prepare_output,
        run_shards,
        summarise,
    )

    config = BuildConfig(rotations=args.rotations, yaw_step=args.yaw_step,
                         pitch_spread=args.pitch_spread, pitch_limit=args.pitch_limit,
                         pitch_shift=args.pitch_shift,
                         crop_size=args.crop_size, posmap_resolution=args.posmap_resolution,
                         photos_per_shard=args.photos_per_shard, seed=args.seed,
                         limit=args.limit, snap_landmarks=not args.no_snap,
                         snap_mouth_open=args.snap_mouth_open,
                         labels_300w=args.labels_300w,
                         teacher_jaw_weight=args.teacher_jaw_weight,
                         teacher_jaw_outline=args.teacher_jaw_outline)
    if args.sources:
        config = dataclasses.replace(
            config, sources=tuple(name for name in args.sources.split(",") if name))
    config.check()
    start, load_start = time.time(), load_average()
    records = list_photos(args.shared_data, config)
    specs = plan_shards(records, config)
    prepare_output(args.output, config)
    todo = pending_shards(args.output, specs)
    print(f"{len(records)} photos in {len(specs)} shards; {len(specs) - len(todo)} already done",
          file=sys.stderr)
    bar = tqdm(total=sum(len(spec.records) for spec in todo), unit="photo", file=sys.stderr)
    samples = [0]

    def done(info: dict) -> None:
        samples[0] += info["samples"]
        bar.update(info["photos"])
        bar.set_postfix(samples=samples[0])

    infos = run_shards(args.shared_data, args.output, config, todo, args.workers, done)
    bar.close()
    wall = time.time() - start
    manifest = summarise(args.output, config)
    manifest["command"] = _command_line()
    manifest["this_run"] = {
        "shards_built": len(infos), "samples_built": sum(i["samples"] for i in infos),
        "photos_built": sum(i["photos"] for i in infos), "wall_seconds": round(wall, 1),
        "workers": args.workers, "cpu_count": os.cpu_count(),
        "worker_seconds_sum": round(sum(i["seconds"] for i in infos), 1),
        "worker_cpu_seconds_sum": round(sum(i["cpu_seconds"] for i in infos), 1),
        "load_average_start": load_start, "load_average_end": load_average(),
        "finished_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    write_text(args.output / "manifest.json", json.dumps(manifest, indent=1) + "\n")
    print(f"{manifest['samples']} samples in {manifest['shards']} shards "
          f"({manifest['bytes'] / 1e9:.2f} GB), this run {wall:.0f} s -> {args.output}")
    return 0


def _photo_landmarks(path: Path, image, shared_data: Path):
    from facerecon.data.pts import read_pts

    pts = path.with_suffix(".pts")
    if pts.is_file():
        return read_pts(pts)
    from facerecon.data.build_worker import teacher_landmarks
    from facerecon.data.teacher import Teacher

    teacher = Teacher.from_folder(shared_data / "teacher-3ddfa")
    return teacher_landmarks(teacher, [image])[0]


def run_profile(args) -> int:
    import cv2
    import numpy as np

    from facerecon.atomic import atomic_path, write_bytes
    from facerecon.data.groundtruth import fit_photo, make_sample
    from facerecon.data.profile import build_scene, render_view
    from facerecon.data.shards import encode_jpeg
    from facerecon.data.sheet import contact_sheet, draw_landmarks
    from facerecon.errors import InvalidInputError
    from facerecon.imageio import read_image
    from facerecon.morphable.fit import IctFitter
    from facerecon.morphable.ict import load_ict
    from facerecon.morphable.snap import LandmarkSnap
    from facerecon.topology import load_topology

    try:
        yaws = [float(value) for value in args.yaws.split(",") if value.strip()]
    except ValueError as error:
        raise InvalidInputError(f"--yaws must be numbers separated by commas: {error}") from None
    model = load_ict(args.shared_data / "ict-facekit" / "FaceXModel")
    fitter, snap = IctFitter(model), LandmarkSnap.for_model(model)
    topology, texture_topology = load_topology(128), load_topology(256)
    rows, labels = [], []
    for path in args.images:
        image = read_image(path)
        photo = fit_photo(image, _photo_landmarks(path, image, args.shared_data), fitter, model,
                          snap)
        views = [make_sample(photo, topology, args.crop_size)]
        scene = build_scene(photo, texture_topology)
        pitch = photo.fit.pose.pitch if args.pitch is None else args.pitch
        # As the build: no turn beyond 90 degrees from the photo's yaw (a grey tile).
        views += [render_view(scene, yaw, pitch, topology, args.crop_size)
                  if abs(yaw - photo.fit.pose.yaw) <= 90.0 else None for yaw in yaws]
        row, row_labels = [], []
        for index, view in enumerate(views):
            if view is None:
                row.append(np.full((args.crop_size, args.crop_size, 3), 64, np.uint8))
                row_labels.append(f"yaw {yaws[index - 1]:+.0f}: turn > 90")
                continue
            tag = "photo" if index == 0 else f"yaw{view.yaw:+03.0f}"
            write_bytes(args.output / f"{path.stem}_{tag}.jpg", encode_jpeg(view.image))
            with atomic_path(args.output / f"{path.stem}_{tag}.npz") as tmp:
                np.savez(tmp, posmap=view.posmap, landmarks=view.landmarks, visible=view.visible)
            row.append(draw_landmarks(view.image, view.landmarks, view.visible))
            row_labels.append(f"{'photo ' if index == 0 else ''}yaw {view.yaw:+.0f}")
        rows.append(row)
        labels.append(row_labels)
        print(f"{path.name}: fit residual {photo.fit.residual_nme:.4f}, yaw "
              f"{photo.fit.pose.yaw:+.1f}, {sum(v is not None for v in views) - 1} views")
    if args.sheet is not None:
        sheet = contact_sheet(rows, labels)
        suffix = args.sheet.suffix.lower()
        params = [cv2.IMWRITE_JPEG_QUALITY, 85] if suffix in (".jpg", ".jpeg") else []
        ok, data = cv2.imencode(suffix, np.ascontiguousarray(sheet[..., ::-1]), params)
        if not ok:
            raise InvalidInputError(f"cannot encode the sheet as {suffix}")
        write_bytes(args.sheet, data.tobytes())
        print(f"contact sheet -> {args.sheet}")
    return 0
