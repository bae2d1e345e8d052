"""Entry point of the ``facerecon`` command.

Each subcommand lives in its own module of this package and exposes
``register(subparsers)``, which adds its parser and sets ``func(args) -> int``.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from facerecon import __version__
from facerecon.errors import FaceReconError

# Modules are imported only when the command line is built, so `facerecon --help` stays fast
# and an optional dependency missing for one subcommand does not break the others.
SUBCOMMAND_MODULES: list[str] = [
    "facerecon.cli.assets",
    "facerecon.cli.data",
    "facerecon.cli.evaluate",
    "facerecon.cli.reconstruct",
    "facerecon.cli.demo",
    "facerecon.cli.swap",
    "facerecon.cli.train",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="facerecon",
        description="One photo in, dense 3D faces out (PRN position-map regression).",
    )
    parser.add_argument("--version", action="version", version=f"facerecon {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in SUBCOMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except FaceReconError as error:
        print(f"facerecon {args.command}: error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
