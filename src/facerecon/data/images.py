"""Image files of the data sets: walk a folder of them, parse UTKFace labels from names.

Reading one is :func:`facerecon.imageio.read_image` (the project's one image reader).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from facerecon.errors import DataNotFoundError
from facerecon.imageio import IMAGE_EXTENSIONS


def iter_image_files(folder: str | Path, recursive: bool = False) -> Iterator[Path]:
    """Yield image files (an :data:`facerecon.imageio.IMAGE_EXTENSIONS` suffix, any case) of
    a folder in sorted name order, descending into subfolders when ``recursive``."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataNotFoundError(f"image folder not found: {folder}")
    pattern = "**/*" if recursive else "*"
    for path in sorted(folder.glob(pattern)):
        if path.is_file() and path.suffix.lower() in IMAGE_EXTENSIONS:
            yield path


@dataclass(frozen=True)
class UtkLabels:
    """Labels UTKFace stores in its file names; a field is None when the name lacks it.

    Attributes:
        age: years. gender: 0 male, 1 female. race: 0 White, 1 Black, 2 Asian, 3 Indian,
        4 Others. timestamp: ``yyyymmddHHMMSSFFF`` as a string.
    """

    age: int | None
    gender: int | None
    race: int | None
    timestamp: str | None


# The timestamp is 17 digits in the documentation, but two shared files have 16 and 18.
_UTK_FULL = re.compile(r"^(\d+)_([01])_([0-4])_(\d+)$")
_UTK_NO_RACE = re.compile(r"^(\d+)_([01])_(\d+)$")


def parse_utkface_name(name: str | Path) -> UtkLabels:
    """Parse ``age_gender_race_datetime.jpg.chip.jpg`` defensively.

    The datetime may have any number of digits (16 and 18 occur besides 17). Stray
    whitespace is ignored (one shared file is ``24_0_1_20170116220224657 .jpg...``); a
    name with one label missing (``61_1_20170109150557335``) keeps age and gender and
    leaves race None, since the gender digit is ambiguous with race only when three labels
    are present; anything else gives all-None labels rather than an error.

    >>> parse_utkface_name("61_1_20170109150557335.jpg.chip.jpg")
    UtkLabels(age=61, gender=1, race=None, timestamp='20170109150557335')
    """
    stem = Path(name).name.split(".", 1)[0].replace(" ", "")
    match = _UTK_FULL.match(stem)
    if match:
        age, gender, race, stamp = match.groups()
        return UtkLabels(int(age), int(gender), int(race), stamp)
    match = _UTK_NO_RACE.match(stem)
    if match:
        age, gender, stamp = match.groups()
        return UtkLabels(int(age), int(gender), None, stamp)
    return UtkLabels(None, None, None, None)
