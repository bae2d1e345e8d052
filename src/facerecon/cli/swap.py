"""``facerecon swap SOURCE TARGET -o OUT`` and ``facerecon edit TARGET --region ... -o OUT``.

Both reconstruct the faces with the same model options as ``reconstruct``, then work in UV
space (:mod:`facerecon.apps.swap`, :mod:`facerecon.apps.edit`): the source face's texture is
rendered onto every target face at its own pose and blended in. The source face is the
largest one in SOURCE unless ``--source-face`` picks another.
"""

from __future__ import annotations

import sys
from pathlib import Path

from facerecon.cli import reconstruct
from facerecon.errors import InvalidInputError
from facerecon.imageio import read_image, write_image

REGIONS = ("face", "eyes", "eye_right", "eye_left", "nose", "mouth")


def register(subparsers) -> None:
    swap = subparsers.add_parser("swap", help="put one photo's face onto every face of another",
                                 description=__doc__.split("\n\n")[0])
    swap.add_argument("source", type=Path, help="photo with the face to use")
    swap.add_argument("target", type=Path, help="photo whose faces are replaced")
    swap.add_argument("--region", choices=REGIONS, default="face")
    swap.add_argument("--color-match", choices=("lab", "none"), default="lab")
    _common(swap)
    swap.set_defaults(func=run_swap)

    edit = subparsers.add_parser("edit", help="replace a region (eyes, mouth, nose) of every face",
                                 description=__doc__.split("\n\n")[0])
    edit.add_argument("target", type=Path, help="photo to edit")
    edit.add_argument("--region", choices=REGIONS, required=True)
    source = edit.add_mutually_exclusive_group(required=True)
    source.add_argument("--from", dest="source", type=Path, help="photo to take the region from")
    source.add_argument("--texture", type=Path, help="texture image in the UV layout")
    _common(edit)
    edit.set_defaults(func=run_edit)


def _common(parser) -> None:
    parser.add_argument("-o", "--output", type=Path, required=True, help="output image file")
    parser.add_argument("--source-face", type=int, default=None,
                        help="index of the source face (default: the largest)")
    parser.add_argument("--blend", choices=("poisson", "paste"), default="poisson")
    parser.add_argument("--detector", default=None)
    parser.add_argument("--model", default=None)
    parser.add_argument("--weights", default=None)
    parser.add_argument("--device", default="cpu")
    parser.set_defaults(box=None, second_pass=False, flip_average=False, surface_sigma=None,
                        refine_weights=None, refine=False)


def _faces(reconstructor, path: Path):
    image = read_image(path)
    faces = reconstructor(image)
    if not faces:
        raise InvalidInputError(f"{path}: no face found")
    return image, faces


def _source_face(faces, index: int | None, path: Path):
    if index is None:
        return max(faces, key=lambda f: (f.box[2] - f.box[0]) * (f.box[3] - f.box[1]))
    if not 0 <= index < len(faces):
        raise InvalidInputError(f"{path}: --source-face {index} but {len(faces)} face(s) found")
    return faces[index]


def run_swap(args) -> int:
    from facerecon.apps.swap import swap_faces

    reconstructor = reconstruct.build_reconstructor(args)
    source_image, source_faces = _faces(reconstructor, args.source)
    target_image, target_faces = _faces(reconstructor, args.target)
    source = _source_face(source_faces, args.source_face, args.source)
    result = swap_faces(source_image, source.posmap, target_image,
                        [face.posmap for face in target_faces], reconstructor.topology,
                        region=args.region, color_match=args.color_match, blend=args.blend)
    write_image(args.output, result.image)
    print(f"swapped {len(target_faces)} face(s) -> {args.output}", file=sys.stderr)
    return 0


def run_edit(args) -> int:
    from facerecon.apps.edit import edit_regions

    reconstructor = reconstruct.build_reconstructor(args)
    target_image, target_faces = _faces(reconstructor, args.target)
    if args.texture is not None:
        texture_source = read_image(args.texture)
    else:
        source_image, source_faces = _faces(reconstructor, args.source)
        texture_source = (source_image, _source_face(source_faces, args.source_face,
                                                     args.source).posmap)
    result = edit_regions(target_image, [face.posmap for face in target_faces],
                          reconstructor.topology, args.region, texture_source, blend=args.blend)
    write_image(args.output, result.image)
    print(f"edited {args.region} of {len(target_faces)} face(s) -> {args.output}",
          file=sys.stderr)
    return 0
