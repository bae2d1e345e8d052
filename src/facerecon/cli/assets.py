"""``facerecon assets build``: regenerate the packaged UV topology from ICT-FaceKit."""

from __future__ import annotations

import argparse
from pathlib import Path

from facerecon.topology.uv_topology import topology_path


def register(subparsers) -> None:
    parser = subparsers.add_parser("assets", help="build the packaged data files")
    actions = parser.add_subparsers(dest="assets_command", metavar="ACTION", required=True)
    build = actions.add_parser(
        "build", help="compute uv_topology_<R>.npz from ICT-FaceKit",
        description="Compute the UV position-map topology (mask, triangles, landmark UVs, "
                    "region and weight masks, canonical map) from an ICT-FaceKit FaceXModel "
                    "folder. The result is the same for the same ICT files and resolution.")
    build.add_argument("--ict", required=True, type=Path,
                       help="ICT-FaceKit FaceXModel folder (plain .obj or .obj.xz files)")
    build.add_argument("--resolution", type=int, default=256, help="side of the map (256)")
    build.add_argument("--output", type=Path, default=None,
                       help="output .npz (default: the packaged assets/uv_topology_<R>.npz)")
    build.set_defaults(func=_build)


def _build(args: argparse.Namespace) -> int:
    # Imported here: building needs the rasteriser (numba) and ICT, using the asset does not.
    from facerecon.morphable.ict import load_ict
    from facerecon.topology.build import build_command, build_topology, write_topology

    model = load_ict(args.ict)
    arrays = build_topology(model, args.resolution, command=build_command(args.resolution))
    output = write_topology(args.output or topology_path(args.resolution), arrays)
    valid = int(arrays["uv_mask"].sum())
    print(f"wrote {output}: {args.resolution}x{args.resolution}, {valid} valid pixels "
          f"({valid / args.resolution ** 2:.1%})")
    return 0
