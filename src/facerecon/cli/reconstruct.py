"""``facerecon reconstruct INPUT... -o OUTDIR``: every face of every image, to files.

A batch never stops at a bad image: each failure is reported with the file and the problem,
every good result is written (each file atomically), and the exit code is 1 if anything
failed (an image with no face counts), else 0.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from facerecon.cli import outputs
from facerecon.errors import FaceReconError, ImageReadError, InvalidInputError
from facerecon.imageio import expand_image_input, read_image

SAVE_CHOICES = outputs.SAVE_CHOICES


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "reconstruct",
        help="reconstruct every face in images: meshes, landmarks, pose, depth, ...",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=outputs.EPILOG,
    )
    parser.add_argument("inputs", nargs="+", metavar="INPUT", help="image files, folders, globs")
    parser.add_argument("-o", "--output", required=True, type=Path, metavar="OUTDIR")
    parser.add_argument(
        "--save",
        nargs="+",
        choices=SAVE_CHOICES,
        default=["json"],
        metavar="WHAT",
        help=f"what to write besides the JSON summary: {', '.join(SAVE_CHOICES)}",
    )
    parser.add_argument("--box", type=_parse_box, help="x1,y1,x2,y2: skip detection")
    parser.add_argument("--front", action="store_true", help="export frontalised meshes")
    parser.add_argument("--texture-size", type=int, default=512, help="textured OBJ texels")
    parser.add_argument("--detector", default=None, help="detector name (default: best)")
    parser.add_argument("--model", default=None,
                        help="model name (default: the one --weights was trained as, else the "
                        "shipped one)")
    parser.add_argument("--weights", default=None, help=".safetensors weights for --model")
    parser.add_argument("--device", default="cpu",
                        help="torch device: cpu, cuda, cuda:N, or auto (cuda when present)")
    parser.add_argument("--second-pass", action="store_true", help="re-crop from landmarks")
    add_refiner_arguments(parser)
    parser.add_argument("--flip-average", action="store_true",
                        help="average with the mirrored crop's prediction (~2 ms more per face)")
    parser.add_argument("--surface-sigma", type=float, default=None,
                        help="smooth predicted maps by this Gaussian in UV pixels "
                             "(default: the model's; 0: raw network maps)")
    parser.set_defaults(func=run)


def _parse_box(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        values = ()
    if len(values) != 4 or not (values[2] > values[0] and values[3] > values[1]):
        raise argparse.ArgumentTypeError(f"--box must be x1,y1,x2,y2 with x1<x2, y1<y2: {text!r}")
    return values


def add_refiner_arguments(parser) -> None:
    """``--refine`` and ``--refine-weights`` (read by :func:`refiner_option`)."""
    parser.add_argument("--refine", action="store_true",
                        help="predict each face again with the shipped refiner network, from "
                             "an upright crop of the first pass's landmarks (~2x the time)")
    parser.add_argument("--refine-weights", type=Path, default=None, metavar="FILE",
                        help="like --refine, with these refiner weights (.safetensors) "
                             "instead of the shipped ones")


def refiner_option(args) -> str | None:
    """``FaceReconstructor``'s ``refiner`` for ``--refine`` / ``--refine-weights``."""
    from facerecon.api import SHIPPED_REFINER

    if args.refine and args.refine_weights is not None:
        raise InvalidInputError("--refine (the shipped refiner) and --refine-weights exclude "
                                "each other")
    if args.refine_weights is not None:
        return str(args.refine_weights)
    return SHIPPED_REFINER if args.refine else None


def build_reconstructor(args):
    """The reconstructor the arguments ask for (tests replace this to inject a model)."""
    from facerecon.api import FaceReconstructor
    from facerecon.detection import DEFAULT_DETECTOR

    return FaceReconstructor(
        model=args.model,
        weights=args.weights,
        detector=None if args.box else (args.detector or DEFAULT_DETECTOR),
        device=args.device,
        second_pass=args.second_pass,
        flip_average=args.flip_average,
        surface_sigma=args.surface_sigma,
        refiner=refiner_option(args),
    )


def run(args) -> int:
    if args.texture_size < 16 or args.texture_size > 8192:
        raise InvalidInputError(f"--texture-size must be in 16..8192, got {args.texture_size}")
    failures: list[str] = []
    paths = []
    for item in args.inputs:
        try:
            paths.extend(expand_image_input(item))
        except FaceReconError as error:
            failures.append(str(error))
    reconstructor = build_reconstructor(args) if paths else None
    stems = outputs.unique_stems(paths)
    done = 0
    for path in _progress(paths):
        try:
            image = read_image(path)
            faces = reconstructor(image, boxes=[args.box] if args.box else None)
            outputs.write_image_outputs(
                path, stems[path], image, faces, args, reconstructor
            )
        except ImageReadError as error:
            failures.append(str(error))
            continue
        except FaceReconError as error:
            failures.append(f"{path}: {error}")
            continue
        if not faces:
            failures.append(f"{path}: no face found")
        else:
            done += 1
    print(f"{done} image(s) reconstructed into {args.output}", file=sys.stderr)
    if failures:
        print(f"{len(failures)} problem(s):", file=sys.stderr)
        for line in failures:
            print(f"  {line}", file=sys.stderr)
        return 1
    return 0


def _progress(paths: list[Path]):
    if len(paths) <= 1:
        return paths
    from tqdm import tqdm

    return tqdm(paths, desc="reconstruct", unit="image", file=sys.stderr)
