"""Per-stage latency of the reconstruction pipeline (DESIGN.md's speed protocol), JSON out.

Stages, batch 1, on scikit-image's astronaut photo (512 x 512, one face): detect (dlib HOG),
crop (box -> similarity -> 256/128 warp), network, smooth (the pipeline's
``surface_sigma`` smoothing of the map, :func:`facerecon.posmap.smooth`), decode (crop ->
image space, dense vertices, landmarks), pose (similarity fit of all vertices), the whole
per-face step after detection (crop + network + smooth + decode + pose: the library's own
``FaceReconstructor`` call given the detector's box, then the face's pose), and exports (OBJ,
GLB of one face). Then the network's and the whole pipeline's throughput at batch 16.
Medians over --runs runs after warm-up, with torch and numba limited to --threads threads.

    PYTHONPATH=src OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=1 python benchmarks/pipeline_speed.py

(OPENBLAS_NUM_THREADS=1, as the command line sets it: facerecon/cli/__init__.py. The library's
reconstruction path no longer makes large matrix products, so without it the per-face step
is about the same; run the command without it, with ``--name``, to measure that; the JSON
records the setting.)

Without --weights the shipped weights are used when they exist, else random ones (the
timing does not depend on the values). ``--flip-average`` times the pipeline with
:class:`facerecon.predictor.FlipAveragedPredictor` (the network stage then runs the crop and
its mirror) and writes ``pipeline_speed_flip.json`` instead. ``--refine`` (the shipped
refiner, :func:`facerecon.models.shipped_refiner`) or ``--refine-weights FILE`` times the
pipeline with a refiner (:class:`facerecon.api.FaceReconstructor`'s ``refiner``): the
per-face step also re-crops upright from the first pass's landmarks and roll and runs the
refiner (stages ``first_pass``: crop, network, landmarks, roll and the refiner's crop, i.e.
``FaceReconstructor.refiner_crops``; ``refine``: upright crop, refiner network, smooth,
decode, pose); it writes ``pipeline_speed_refine.json``.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

import numpy as np
from common import median_ms, set_threads, write_result

COMMAND = "PYTHONPATH=src OMP_NUM_THREADS=2 {blas}python benchmarks/pipeline_speed.py"
PERCENTILES = {"p10_ms": 10, "p90_ms": 90}


def timed(fn, runs: int, warmup: int = 5) -> dict:
    return median_ms(fn, runs, warmup, percentiles=PERCENTILES)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=None)
    parser.add_argument("--weights", default=None)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--name", default=None,
                        help="result file name under benchmarks/results (no .json; default "
                        "pipeline_speed[_flip][_refine])")
    parser.add_argument("--out", type=Path, default=None,
                        help="write the JSON here instead of benchmarks/results (used by "
                        "benchmarks/repeated_pipeline_speed.py)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--flip-average", action="store_true",
                        help="time the mirror-averaged predictor")
    parser.add_argument("--refine-weights", default=None, metavar="FILE",
                        help="time the pipeline with a refiner network of these weights")
    parser.add_argument("--refine", action="store_true",
                        help="time the pipeline with the shipped refiner")
    args = parser.parse_args()

    import torch
    from skimage.data import astronaut

    from facerecon.api import FaceReconstructor, posmap_to_image
    from facerecon.crop import box_crop_params, crop_from_box
    from facerecon.face import Face
    from facerecon.mesh import write_glb, write_obj
    from facerecon.models import (
        DEFAULT_MODEL,
        create_model,
        get_config,
        prepare_for_inference,
        shipped_refiner,
        shipped_weights,
    )
    from facerecon.posmap import smooth
    from facerecon.predictor import FlipAveragedPredictor, NetworkPredictor

    set_threads(args.threads)
    name = args.model or DEFAULT_MODEL
    weights = args.weights or shipped_weights(name)
    if weights is None:
        with tempfile.NamedTemporaryFile(suffix=".safetensors", delete=False) as handle:
            from facerecon.models import save_weights

            save_weights(create_model(name), handle.name)
            weights = handle.name
    predictor = NetworkPredictor(name, weights=weights)
    if args.flip_average:
        predictor = FlipAveragedPredictor(predictor)
    if args.refine and args.refine_weights:
        parser.error("--refine and --refine-weights exclude each other")
    refine_weights = args.refine_weights or (shipped_refiner(name) if args.refine else None)
    if args.refine and refine_weights is None:
        parser.error(f"no refiner is shipped for {name}")
    refiner = None if refine_weights is None else NetworkPredictor(name, weights=refine_weights)
    # smooths with the (last) network's surface_sigma
    rec = FaceReconstructor(model=predictor, refiner=refiner)
    first_sigma = rec.surface_sigma if refiner is None else predictor.surface_sigma
    image = astronaut()
    detection = rec.detect(image)[0]
    params = box_crop_params(rec.detector_name)
    size, supersample = predictor.input_size, predictor.crop_supersample

    def crop():
        return crop_from_box(detection.box, size, params.scale, params.center_shift)

    def decode(transform, crop_posmap):
        image_posmap = posmap_to_image(crop_posmap, transform, rec.topology.uv_mask)
        return Face(detection.box, detection.score, transform, image_posmap, rec.topology, image)

    def smoothed(crop_posmaps, sigma=first_sigma):
        return smooth(crop_posmaps, rec.topology, sigma)

    def refine(transform):
        patch = transform.warp(image, refiner.crop_supersample)[None]
        crop_posmap = smoothed(refiner(patch, [transform]), rec.surface_sigma)
        return decode(transform, crop_posmap[0]).pose

    def per_face():  # the library's own path, given the detector's box
        return rec(image, boxes=[detection.box], box_source=rec.detector_name)[0].pose

    transform = crop()
    patch = transform.warp(image, supersample)[None]
    raw = predictor(patch, [transform])
    posmap = smoothed(raw)[0]
    face = decode(transform, posmap)

    stages = {
        "detect": timed(lambda: rec.detect(image), args.runs),
        "crop": timed(lambda: crop().warp(image, supersample), args.runs),
        "network": timed(lambda: predictor(patch, [transform]), args.runs),
        "smooth": timed(lambda: smoothed(raw), args.runs),
        "decode": timed(lambda: decode(transform, posmap), args.runs),
        "pose": timed(lambda: decode(transform, posmap).pose, args.runs),
        "per_face_after_detection": timed(per_face, args.runs),
    }
    if refiner is not None:
        stages["first_pass"] = timed(lambda: rec.refiner_crops(image, [crop()]), args.runs)
        refiner_crop = rec.refiner_crops(image, [crop()])[0]
        stages["refine"] = timed(lambda: refine(refiner_crop), args.runs)
    with tempfile.TemporaryDirectory() as folder:
        mesh = face.mesh()
        stages["export_obj"] = timed(lambda: write_obj(mesh, Path(folder) / "f.obj"), 10, 1)
        stages["export_glb"] = timed(lambda: write_glb(mesh, Path(folder) / "f.glb"), 10, 1)

    batch = np.repeat(patch, 16, axis=0)
    transforms = [transform] * 16
    network16 = timed(lambda: predictor(batch, transforms), max(10, args.runs // 5), 2)
    many = timed(lambda: rec(image, boxes=[detection.box] * 16), max(10, args.runs // 5), 2)
    config = get_config(name)
    model = prepare_for_inference(create_model(name, weights=weights))
    blas = os.environ.get("OPENBLAS_NUM_THREADS")  # None: numpy's own default
    option = (" --flip-average" if args.flip_average else "") + (
        f" --refine-weights {args.refine_weights}" if args.refine_weights else "") + (
        " --refine" if args.refine else "")
    result = {
        "command": COMMAND.format(blas=f"OPENBLAS_NUM_THREADS={blas} " if blas else "")
        + option + (f" --name {args.name}" if args.name else ""),
        "openblas_num_threads": blas,
        "model": predictor.name,
        "weights": str(weights) if args.weights or shipped_weights(name) else "random",
        # Batch norm folded into the convolutions: fewer than the trainable model's count.
        "parameters_inference": int(sum(p.numel() for p in model.parameters())),
        "input_size": config.input_size,
        "output_size": config.output_size,
        "dense_vertices": int(len(face.vertices)),
        "surface_sigma": rec.surface_sigma,
        "refiner": None if refiner is None else {"weights": str(refine_weights),
                                                 "first_pass_surface_sigma": first_sigma},
        "threads": args.threads,
        "runs": args.runs,
        "torch": torch.__version__,
        "load_average_1_5_15": [round(v, 2) for v in os.getloadavg()],
        "stages_batch1": stages,
        "batch16": {
            "network_img_per_s": round(16000 / network16["median_ms"], 1),
            "given_boxes_faces_per_s": round(16000 / many["median_ms"], 1),
        },
    }
    name = "pipeline_speed" + ("_flip" if args.flip_average else "") + (
        "_refine" if refiner is not None else "")
    write_result(args.name or name, result, indent=1, path=args.out)


if __name__ == "__main__":
    main()
