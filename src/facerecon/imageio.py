"""Reading and writing images: one RGB uint8 array in, one clear error out for any bad file.

Every image the library sees comes through :func:`load_image` (paths or arrays) or
:func:`read_image` (paths). The result is always a fresh (H, W, 3) uint8 RGB array that
shares no memory with the input. Decisions (tested in tests/test_imageio.py):

- Size limit: files with more than ``max_pixels`` pixels (default
  :data:`DEFAULT_MAX_PIXELS`, 50 MP) are refused from their header, **before** any pixel is
  decoded. Pillow's own decompression-bomb guard (2 x ``PIL.Image.MAX_IMAGE_PIXELS``,
  about 179 MP) also refuses at header time, so a larger ``max_pixels`` cannot go past it.
- Truncated files: Pillow's decoder reports a truncated stream, and JPEGs are in addition
  checked to reach their end-of-image marker (so the check holds even if some other code in
  the process sets ``PIL.ImageFile.LOAD_TRUNCATED_IMAGES``).
- EXIF orientation is applied: the array is what a photo viewer shows.
- Grayscale becomes RGB (three equal channels). Alpha is dropped (the stored colours are
  kept, not composited on any background). Palette images are expanded to their colours.
- 16-bit images are scaled to 8 bits with rounding, ``round(v * 255 / 65535)``, never by
  dropping bits.
- Multi-frame files (GIF, TIFF) give their first frame.
- Arrays: (H, W, 3) uint8 RGB, (H, W) uint8 gray and (H, W, 4) uint8 RGBA are accepted;
  float arrays are refused, because 0-1 and 0-255 scaling cannot be told apart.
"""

from __future__ import annotations

import glob
import io
import os
import re
import warnings
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from facerecon.atomic import atomic_path
from facerecon.errors import ImageReadError, InvalidInputError

#: Default refusal limit: 50 megapixels (a 8660 x 5773 photo; phone cameras stay below it).
DEFAULT_MAX_PIXELS = 50_000_000

#: File extensions :func:`iter_image_paths` picks up in folders (compared lower-case).
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")

_EXIF_ORIENTATION = 0x0112
# The first marker after entropy-coded JPEG data: 0xFF not followed by 0x00 (byte stuffing),
# a restart marker (0xD0-0xD7) or another 0xFF (fill byte).
_NEXT_JPEG_MARKER = re.compile(rb"\xff(?=[^\x00\xd0-\xd7\xff])")


def read_image(path: str | os.PathLike, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Read an image file as a new (H, W, 3) uint8 RGB array (see the module notes).

    Raises:
        ImageReadError: naming the file and the problem: missing, a folder, empty, not an
            image, too many pixels, truncated or corrupt, or an unsupported pixel format.
        InvalidInputError: ``max_pixels`` is not a positive integer.
    """
    if isinstance(max_pixels, bool) or not isinstance(max_pixels, int) or max_pixels < 1:
        raise InvalidInputError(f"max_pixels must be a positive integer, got {max_pixels!r}")
    name = str(path)
    _check_regular_file(Path(path), name)
    with warnings.catch_warnings():
        # our own limit below replaces Pillow's decompression-bomb warning
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            with Image.open(path) as header:  # reads the header only
                width, height, image_format = header.width, header.height, header.format
        except UnidentifiedImageError:
            raise ImageReadError(name, "not a readable image (unknown or corrupt format)") from None
        except Image.DecompressionBombError as error:
            problem = f"too many pixels, refused before decoding ({error})"
            raise ImageReadError(name, problem) from None
        except OSError as error:
            if error.errno is not None:  # the file system refused (permissions, I/O error)
                raise ImageReadError(name, f"cannot read the file ({error})") from None
            problem = f"truncated or corrupt image header ({error})"
            raise ImageReadError(name, problem) from None
    if width * height > max_pixels:
        raise ImageReadError(
            name,
            f"image is {width}x{height} = {width * height:,} pixels, above the limit of "
            f"{max_pixels:,}; refused before decoding",
        )
    data = _read_bytes(Path(path), name)
    if image_format in ("JPEG", "MPO") and not _jpeg_reaches_end(data):
        raise ImageReadError(name, "truncated JPEG (no end-of-image marker)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        image = Image.open(io.BytesIO(data))
        try:
            image.load()
        except (OSError, SyntaxError, ValueError) as error:
            problem = f"truncated or corrupt {image_format} data ({error})"
            raise ImageReadError(name, problem) from None
    if image_format == "PNG" and _png_bit_depth(data) == 16:
        array = _decode_png16(data, name)  # Pillow keeps only the high byte of 16-bit colour
    else:
        array = _pillow_to_rgb(image, name)
    return _apply_orientation(array, _orientation(image))


def load_image(image, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """An image path or array -> a new (H, W, 3) uint8 RGB array (the API's one entry point).

    Args:
        image: a path (str or os.PathLike), or a uint8 array of shape (H, W, 3) RGB,
            (H, W) gray or (H, W, 4) RGBA (alpha dropped). Never modified.
        max_pixels: for paths, the limit passed to :func:`read_image`.

    Raises:
        ImageReadError: for a path, as :func:`read_image`.
        InvalidInputError: any other type, dtype or shape, or an empty array.
    """
    if isinstance(image, str | os.PathLike):
        return read_image(image, max_pixels=max_pixels)
    if not isinstance(image, np.ndarray):
        raise InvalidInputError(
            f"image must be a path or a numpy uint8 array, got {type(image).__name__}"
        )
    if np.issubdtype(image.dtype, np.floating):
        raise InvalidInputError(
            f"float image arrays ({image.dtype}) are refused: 0-1 and 0-255 scales cannot be "
            "told apart; convert to uint8 RGB first, e.g. (img * 255).round().astype(np.uint8)"
        )
    if image.dtype != np.uint8:
        raise InvalidInputError(f"image arrays must be uint8, got {image.dtype}")
    if image.ndim == 2:
        image = image[:, :, None].repeat(3, axis=2)
    elif image.ndim == 3 and image.shape[2] in (3, 4):
        image = image[:, :, :3]
    else:
        raise InvalidInputError(
            f"image array must be (H, W, 3) RGB, (H, W) gray or (H, W, 4) RGBA, got {image.shape}"
        )
    if image.size == 0:
        raise InvalidInputError(f"image array is empty: {image.shape}")
    return np.array(image, dtype=np.uint8, order="C", copy=True)


def write_image(path: str | os.PathLike, image, jpeg_quality: int = 95) -> None:
    """Atomically write an image as PNG or JPEG, chosen by the suffix (.png, .jpg, .jpeg).

    Args:
        path: destination; folders are created; an existing file is replaced whole.
        image: uint8 (H, W, 3) RGB, (H, W) gray or, for PNG only, (H, W, 4) RGBA; or a
            (H, W) uint16 array, for PNG only (e.g. a depth image). Never modified.
        jpeg_quality: 1-95, JPEG only.

    Raises:
        InvalidInputError: unsupported suffix, dtype or shape for that format.
        OSError: the file system refused the write (nothing is left under ``path``).
    """
    suffix = Path(path).suffix.lower()
    formats = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG"}
    if suffix not in formats:
        raise InvalidInputError(f"write_image writes .png, .jpg or .jpeg, got {str(path)!r}")
    image = np.asarray(image)
    png_only = (image.dtype == np.uint8 and image.shape[2:] == (4,) and image.ndim == 3) or (
        image.dtype == np.uint16 and image.ndim == 2
    )
    uint8_ok = image.dtype == np.uint8 and (image.ndim == 2 or image.shape[2:] == (3,))
    if not (uint8_ok or (png_only and formats[suffix] == "PNG")) or image.size == 0:
        raise InvalidInputError(
            f"cannot write a {image.dtype} {image.shape} array as {formats[suffix]}: use uint8 "
            "(H, W, 3) RGB or (H, W) gray; (H, W, 4) uint8 and (H, W) uint16 need .png"
        )
    if not (isinstance(jpeg_quality, int) and 1 <= jpeg_quality <= 95):
        raise InvalidInputError(f"jpeg_quality must be an integer 1-95, got {jpeg_quality!r}")
    pillow_image = Image.fromarray(np.ascontiguousarray(image))  # uint16 (H, W) -> mode I;16
    options = {"quality": jpeg_quality} if formats[suffix] == "JPEG" else {}
    with atomic_path(path) as tmp:
        pillow_image.save(tmp, format=formats[suffix], **options)


def expand_image_input(item: str | os.PathLike) -> list[Path]:
    """One command-line input -> the image files it names.

    A file is returned as it is (whatever its extension: reading it will tell). A folder
    gives its files with an :data:`IMAGE_EXTENSIONS` suffix, sorted by name, not recursing.
    Anything else is a glob pattern (``**`` recurses), expanded in sorted order; folders it
    matches are expanded as above.

    Raises:
        ImageReadError: naming the input: it does not exist, matches nothing, or is a folder
            with no image files.
    """
    name = str(item)
    path = Path(item)
    if path.is_file():
        return [path]
    if path.is_dir():
        return _folder_images(path, name)
    if not any(char in name for char in "*?["):
        raise ImageReadError(name, "no such file or folder")
    matches = sorted(Path(match) for match in glob.glob(name, recursive=True))
    files: list[Path] = []
    for match in matches:
        if match.is_dir():
            files.extend(_folder_images(match, str(match), required=False))
        elif match.is_file():
            files.append(match)
    if not files:
        raise ImageReadError(name, "pattern matches no image file")
    return files


def iter_image_paths(inputs: list[str]) -> list[Path]:
    """Expand files, folders and glob patterns into a list of image paths, without repeats.

    Order: inputs in the order given, each expanded as :func:`expand_image_input`. The first
    bad input raises :class:`ImageReadError` naming it; to report every bad input and go on
    with the others (as the CLI does), call :func:`expand_image_input` per input instead.
    """
    seen: set[Path] = set()
    paths: list[Path] = []
    for item in inputs:
        for path in expand_image_input(item):
            key = path.resolve()
            if key not in seen:
                seen.add(key)
                paths.append(path)
    return paths


def _folder_images(folder: Path, name: str, required: bool = True) -> list[Path]:
    files = sorted(
        child for child in folder.iterdir()
        if child.is_file() and child.suffix.lower() in IMAGE_EXTENSIONS
    )
    if required and not files:
        raise ImageReadError(
            name, f"folder holds no image files ({', '.join(IMAGE_EXTENSIONS)})"
        )
    return files


def _check_regular_file(path: Path, name: str) -> None:
    if path.is_dir():
        raise ImageReadError(name, "is a folder, not an image file")
    if not path.exists():
        raise ImageReadError(name, "no such file")
    if path.stat().st_size == 0:
        raise ImageReadError(name, "empty file (0 bytes)")


def _read_bytes(path: Path, name: str) -> bytes:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ImageReadError(name, "no such file") from None
    except OSError as error:
        raise ImageReadError(name, f"cannot read the file ({error.strerror or error})") from None
    if not data:
        raise ImageReadError(name, "empty file (0 bytes)")
    return data


def _jpeg_reaches_end(data: bytes) -> bool:
    """Walk the JPEG marker segments and entropy-coded scans; True if EOI is reached."""
    position, end = 2, len(data)
    while position + 2 <= end:
        if data[position] != 0xFF:
            return False
        marker = data[position + 1]
        if marker == 0xD9:
            return True
        if marker == 0xFF:  # fill byte before a marker
            position += 1
            continue
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:  # markers without a length field
            position += 2
            continue
        if position + 4 > end:
            return False
        position += 2 + int.from_bytes(data[position + 2 : position + 4], "big")
        if marker == 0xDA:  # start of scan: skip its entropy-coded data
            found = _NEXT_JPEG_MARKER.search(data, position)
            if found is None:
                return False
            position = found.start()
    return False


def _png_bit_depth(data: bytes) -> int:
    # signature (8) + IHDR length (4) + b"IHDR" (4) + width (4) + height (4), then bit depth
    return data[24] if len(data) > 24 and data[12:16] == b"IHDR" else 0


def _to_uint8(array16: np.ndarray) -> np.ndarray:
    return ((array16.astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8)


def _decode_png16(data: bytes, name: str) -> np.ndarray:
    decoded = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    if decoded is None or decoded.dtype != np.uint16:
        raise ImageReadError(name, "corrupt 16-bit PNG data")
    decoded = _to_uint8(decoded)
    if decoded.ndim == 2:
        return np.repeat(decoded[:, :, None], 3, axis=2)
    # OpenCV gives BGR or BGRA
    return np.ascontiguousarray(decoded[:, :, 2::-1])


def _pillow_to_rgb(image: Image.Image, name: str) -> np.ndarray:
    mode = image.mode
    if mode.startswith("I;16"):
        gray = _to_uint8(np.asarray(image).astype(np.uint16))
        return np.repeat(gray[:, :, None], 3, axis=2)
    if mode in ("I", "F"):
        kind = "integer" if mode == "I" else "float"
        raise ImageReadError(name, f"unsupported pixel format (32-bit {kind})")
    try:
        if mode in ("P", "PA"):  # palette: expand with its transparency, then drop alpha
            image = image.convert("RGBA")
        return np.asarray(image.convert("RGB"), dtype=np.uint8).copy()
    except ValueError as error:
        raise ImageReadError(name, f"unsupported pixel format {mode} ({error})") from None


def _orientation(image: Image.Image) -> int:
    try:
        return int(image.getexif().get(_EXIF_ORIENTATION, 1))
    except Exception:  # a damaged EXIF block must not make a decodable image unreadable
        return 1


def _apply_orientation(array: np.ndarray, orientation: int) -> np.ndarray:
    """Apply an EXIF orientation tag (1-8) to a stored (H, W, 3) array, as viewers do."""
    transforms = {
        2: lambda a: a[:, ::-1],  # mirrored left-right
        3: lambda a: a[::-1, ::-1],  # rotated 180
        4: lambda a: a[::-1],  # mirrored top-bottom
        5: lambda a: a.transpose(1, 0, 2),  # mirrored about the main diagonal
        6: lambda a: np.rot90(a, -1),  # shown rotated 90 degrees clockwise
        7: lambda a: a[::-1, ::-1].transpose(1, 0, 2),  # mirrored about the anti-diagonal
        8: lambda a: np.rot90(a, 1),  # shown rotated 90 degrees counter-clockwise
    }
    if orientation not in transforms:
        return array
    return np.ascontiguousarray(transforms[orientation](array))
