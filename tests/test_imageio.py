import io
import resource
import struct
import time
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageFile, ImageOps

from facerecon.errors import ImageReadError, InvalidInputError
from facerecon.imageio import (
    DEFAULT_MAX_PIXELS,
    expand_image_input,
    iter_image_paths,
    load_image,
    read_image,
    write_image,
)


@pytest.fixture
def noisy(rng) -> np.ndarray:
    """A 120 x 160 noise image: its JPEG has long entropy-coded scans to cut into."""
    return rng.integers(0, 256, size=(120, 160, 3), dtype=np.uint8)


@pytest.fixture
def photo(rng) -> np.ndarray:
    """A 40 x 60 RGB image with distinct channels (smooth, so JPEG keeps it close)."""
    ys, xs = np.mgrid[0:40, 0:60]
    return np.stack([xs * 4, ys * 6, 255 - xs * 4], axis=-1).astype(np.uint8)


def _jpeg_bytes(array: np.ndarray, **options) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="JPEG", **options)
    return buffer.getvalue()


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(
        ">I", zlib.crc32(kind + payload)
    )


def _png_header_only(width: int, height: int) -> bytes:
    """A valid PNG header claiming width x height RGB, with a tiny IDAT (never decoded)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 16))
        + _png_chunk(b"IEND", b"")
    )


def _read_error(path, **kwargs) -> ImageReadError:
    with pytest.raises(ImageReadError) as caught:
        read_image(path, **kwargs)
    assert str(path) in str(caught.value)
    assert caught.value.path == str(path)
    return caught.value


# ---- bad files: one clear error naming the file ----


def test_missing_file(tmp_path):
    assert "no such file" in _read_error(tmp_path / "absent.jpg").problem


def test_directory(tmp_path):
    assert "folder" in _read_error(tmp_path).problem


def test_empty_file(tmp_path):
    path = tmp_path / "empty.jpg"
    path.write_bytes(b"")
    assert "empty file (0 bytes)" in _read_error(path).problem


def test_text_file_named_jpg(tmp_path):
    path = tmp_path / "notes.jpg"
    path.write_text("this is not a picture\n")
    assert "not a readable image" in _read_error(path).problem


@pytest.mark.parametrize("cut", [1, 2, 100, 0.5])
@pytest.mark.parametrize("progressive", [False, True])
def test_truncated_jpeg(tmp_path, noisy, cut, progressive):
    data = _jpeg_bytes(noisy, progressive=progressive)
    keep = int(len(data) * cut) if isinstance(cut, float) else len(data) - cut
    path = tmp_path / "cut.jpg"
    path.write_bytes(data[:keep])
    assert "truncated" in _read_error(path).problem


@pytest.mark.parametrize("progressive", [False, True])
def test_truncated_jpeg_caught_even_if_pillow_allows_it(tmp_path, noisy, monkeypatch, progressive):
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    path = tmp_path / "cut.jpg"
    path.write_bytes(_jpeg_bytes(noisy, progressive=progressive)[:-300])
    assert "no end-of-image marker" in _read_error(path).problem


def test_jpeg_marker_walk_skips_segments_scans_restarts_and_trailing_data(tmp_path, photo):
    # an APP15 segment holding an EOI byte pair must not count as the end of the image
    data = _jpeg_bytes(photo)
    junk = b"junk\xff\xd9junk"
    app15 = b"\xff\xef" + struct.pack(">H", len(junk) + 2) + junk
    with_segment = data[:2] + app15 + data[2:]
    good = tmp_path / "segment.jpg"
    good.write_bytes(with_segment + b"appended trailer after EOI")
    np.testing.assert_array_equal(read_image(good), read_image_from_bytes(tmp_path, data))
    cut = tmp_path / "segment_cut.jpg"
    cut.write_bytes(with_segment[:-2])
    assert "truncated" in _read_error(cut).problem
    ok, encoded = cv2.imencode(".jpg", photo[:, :, ::-1], [cv2.IMWRITE_JPEG_RST_INTERVAL, 1])
    assert ok and b"\xff\xd0" in encoded.tobytes()
    restarts = tmp_path / "restarts.jpg"
    restarts.write_bytes(encoded.tobytes())
    assert read_image(restarts).shape == (40, 60, 3)


def test_mpo_gives_its_first_frame(tmp_path, photo):
    # multi-picture JPEGs (some cameras' .jpg files): Pillow reports format MPO
    path = tmp_path / "camera.jpg"
    frames = [Image.fromarray(photo), Image.fromarray(photo[::-1])]
    frames[0].save(path, format="MPO", save_all=True, append_images=frames[1:], quality=95)
    with Image.open(path) as opened:
        assert opened.format == "MPO"
    image = read_image(path).astype(int)
    assert np.abs(image - photo).mean() < 3 < np.abs(image - photo[::-1]).mean()
    path.write_bytes(path.read_bytes()[: len(_jpeg_bytes(photo)) // 2])
    assert "truncated" in _read_error(path).problem


def read_image_from_bytes(tmp_path: Path, data: bytes) -> np.ndarray:
    path = tmp_path / "plain.jpg"
    path.write_bytes(data)
    return read_image(path)


def test_corrupt_png_data(tmp_path):
    ihdr = struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0)
    not_zlib = bytes(range(7, 200))
    path = tmp_path / "corrupt.png"
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", not_zlib)
        + _png_chunk(b"IEND", b"")
    )
    assert "corrupt" in _read_error(path).problem


def test_huge_png_is_refused_before_decoding(tmp_path):
    path = tmp_path / "huge.png"
    path.write_bytes(_png_header_only(30000, 30000))
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    problem = _read_error(path).problem
    assert time.perf_counter() - started < 1.0
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before
    assert grown_kib < 100_000  # decoding would need 2.7 GB
    assert "refused before decoding" in problem


def test_image_above_our_limit_names_its_size(tmp_path):
    path = tmp_path / "big.png"
    path.write_bytes(_png_header_only(9000, 6000))  # 54 MP: below Pillow's guard, above ours
    problem = _read_error(path).problem
    assert "9000x6000" in problem and f"{DEFAULT_MAX_PIXELS:,}" in problem


def test_custom_pixel_limit(tmp_path, photo):
    path = tmp_path / "photo.png"
    Image.fromarray(photo).save(path)
    assert "60x40" in _read_error(path, max_pixels=2399).problem
    assert read_image(path, max_pixels=2400).shape == (40, 60, 3)
    for bad in (0, -5, 2.5, True):
        with pytest.raises(InvalidInputError):
            read_image(path, max_pixels=bad)


# ---- pixel formats ----


def test_rgb_png_is_exact_and_rgb_ordered(tmp_path, photo):
    path = tmp_path / "photo.png"
    Image.fromarray(photo).save(path)
    image = read_image(path)
    assert image.dtype == np.uint8 and image.flags.c_contiguous
    np.testing.assert_array_equal(image, photo)


def test_jpeg_reads_close_to_the_source(tmp_path, photo):
    path = tmp_path / "photo.jpg"
    path.write_bytes(_jpeg_bytes(photo, quality=95))
    assert np.abs(read_image(path).astype(int) - photo).mean() < 3


@pytest.mark.parametrize("suffix", [".png", ".jpg"])
def test_grayscale_becomes_rgb(tmp_path, photo, suffix):
    gray = photo[:, :, 1]
    path = tmp_path / f"gray{suffix}"
    Image.fromarray(gray, mode="L").save(path)
    image = read_image(path)
    assert image.shape == (40, 60, 3)
    np.testing.assert_array_equal(image[..., 0], image[..., 2])
    if suffix == ".png":
        np.testing.assert_array_equal(image[..., 1], gray)


@pytest.mark.parametrize("mode", ["RGBA", "LA"])
def test_alpha_is_dropped_keeping_stored_colours(tmp_path, photo, mode):
    alpha = np.zeros((40, 60), dtype=np.uint8)
    alpha[:, 30:] = 255
    if mode == "RGBA":
        array, expected = np.dstack([photo, alpha]), photo
    else:
        array, expected = np.dstack([photo[..., 0], alpha]), np.repeat(photo[..., :1], 3, axis=2)
    path = tmp_path / "alpha.png"
    Image.fromarray(array, mode=mode).save(path)
    np.testing.assert_array_equal(read_image(path), expected)


@pytest.mark.parametrize("transparency", [False, True])
def test_palette_png(tmp_path, transparency):
    palette = [255, 0, 0, 0, 255, 0, 0, 0, 255] + [0] * (256 * 3 - 9)
    indices = np.array([[0, 1, 2], [2, 1, 0]], dtype=np.uint8)
    image = Image.fromarray(indices, mode="P")
    image.putpalette(palette)
    path = tmp_path / "palette.png"
    image.save(path, transparency=1) if transparency else image.save(path)
    expected = np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255]]] * 2, dtype=np.uint8)
    expected[1] = expected[1, ::-1]
    np.testing.assert_array_equal(read_image(path), expected)


VALUES16 = np.array([0, 255, 25855, 65535], dtype=np.uint16)
# round(v * 255 / 65535); dropping the low byte would give 0, 0, 100, 255
EXPECTED8 = np.array([0, 1, 101, 255], dtype=np.uint8)


@pytest.mark.parametrize("channels", [1, 3, 4])
def test_16_bit_png_is_rounded_not_truncated(tmp_path, channels):
    row = VALUES16[None, :]
    if channels == 1:
        stored, expected = row, np.repeat(EXPECTED8[None, :, None], 3, axis=2)
    else:
        # RGB = (v, 0, 65535 - v): tells channel order apart
        rgb = np.stack([row, np.zeros_like(row), 65535 - row], axis=-1)
        expected = np.stack(
            [EXPECTED8[None], np.zeros((1, 4), np.uint8), 255 - EXPECTED8[None]], axis=-1
        )
        stored = rgb if channels == 3 else np.dstack([rgb, np.full_like(row, 1000)])
        stored = stored[..., [2, 1, 0, 3][:channels]]  # OpenCV writes BGR(A)
    path = tmp_path / "deep.png"
    assert cv2.imwrite(str(path), np.ascontiguousarray(stored))
    np.testing.assert_array_equal(read_image(path), expected)


def test_16_bit_gray_alpha_png(tmp_path):
    # neither Pillow nor OpenCV writes 16-bit gray + alpha: build the PNG by hand
    pixels = np.stack([VALUES16, np.full(4, 1000)], axis=-1)[None].astype(">u2")
    raw = b"".join(b"\x00" + row.tobytes() for row in pixels)  # filter byte 0 per row
    path = tmp_path / "gray_alpha16.png"
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 1, 16, 4, 0, 0, 0))
        + _png_chunk(b"IDAT", zlib.compress(raw))
        + _png_chunk(b"IEND", b"")
    )
    np.testing.assert_array_equal(read_image(path), np.repeat(EXPECTED8[None, :, None], 3, 2))


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_is_applied(tmp_path, photo, orientation):
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = tmp_path / "oriented.png"
    Image.fromarray(photo).save(path, exif=exif)
    with Image.open(path) as stored:
        expected = np.asarray(ImageOps.exif_transpose(stored).convert("RGB"))
    np.testing.assert_array_equal(read_image(path), expected)
    if orientation == 6:  # shown turned 90 degrees clockwise: stored top-left goes top-right
        assert read_image(path).shape == (60, 40, 3)
        np.testing.assert_array_equal(read_image(path)[0, -1], photo[0, 0])


def test_exif_orientation_of_a_camera_jpeg(tmp_path, photo):
    exif = Image.Exif()
    exif[0x0112] = 8  # shown turned 90 degrees counter-clockwise
    path = tmp_path / "portrait.jpg"
    path.write_bytes(_jpeg_bytes(photo, exif=exif, quality=95))
    image = read_image(path)
    assert image.shape == (60, 40, 3)
    assert np.abs(image.astype(int) - np.rot90(photo)).mean() < 3


def test_16_bit_gray_tiff_is_rounded(tmp_path):
    path = tmp_path / "deep.tif"
    Image.fromarray(VALUES16[None, :]).save(path)
    np.testing.assert_array_equal(read_image(path), np.repeat(EXPECTED8[None, :, None], 3, 2))


def test_float_tiff_is_refused(tmp_path):
    path = tmp_path / "float.tif"
    Image.fromarray(np.zeros((4, 4), np.float32)).save(path)
    assert "unsupported pixel format (32-bit float)" in _read_error(path).problem


@pytest.mark.parametrize("image_format", ["BMP", "TIFF", "GIF", "WEBP"])
def test_other_formats(tmp_path, photo, image_format):
    path = tmp_path / f"photo.{image_format.lower()}"
    options = {"lossless": True} if image_format == "WEBP" else {}
    Image.fromarray(photo).save(path, format=image_format, **options)
    image = read_image(path)
    assert image.shape == (40, 60, 3) and image.dtype == np.uint8
    if image_format != "GIF":  # GIF quantises to a palette
        np.testing.assert_array_equal(image, photo)


# ---- arrays ----


def test_load_image_accepts_paths_and_arrays(tmp_path, photo):
    path = tmp_path / "photo.png"
    Image.fromarray(photo).save(path)
    np.testing.assert_array_equal(load_image(path), photo)
    np.testing.assert_array_equal(load_image(str(path)), photo)
    with pytest.raises(ImageReadError, match="above the limit"):
        load_image(path, max_pixels=100)
    result = load_image(photo)
    np.testing.assert_array_equal(result, photo)
    assert not np.shares_memory(result, photo)
    gray = load_image(photo[:, :, 0])
    np.testing.assert_array_equal(gray, np.repeat(photo[:, :, :1], 3, axis=2))
    rgba = np.dstack([photo, np.full((40, 60), 7, np.uint8)])
    np.testing.assert_array_equal(load_image(rgba), photo)
    strided = load_image(photo[::2, ::-1])
    assert strided.flags.c_contiguous
    np.testing.assert_array_equal(strided, photo[::2, ::-1])
    with pytest.raises(ImageReadError):
        load_image(tmp_path / "absent.png")


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (np.zeros((4, 4, 3), np.float32), "float"),
        (np.zeros((4, 4, 3), np.float64), "float"),
        (np.zeros((4, 4, 3), np.uint16), "uint8"),
        (np.zeros((4, 4, 3), bool), "uint8"),
        (np.zeros((4, 4, 2), np.uint8), "shape|\\(H, W"),
        (np.zeros((2, 4, 4, 3), np.uint8), "\\(H, W"),
        (np.zeros((0, 4, 3), np.uint8), "empty"),
        ([[1, 2], [3, 4]], "list"),
        (None, "NoneType"),
    ],
)
def test_load_image_rejects_other_inputs(bad, message):
    with pytest.raises(InvalidInputError, match=message):
        load_image(bad)


def test_inputs_are_not_mutated(photo):
    before = photo.copy()
    out = load_image(photo)
    out[:] = 0
    np.testing.assert_array_equal(photo, before)


# ---- writing ----


def test_write_png_and_jpeg_round_trip(tmp_path, photo):
    write_image(tmp_path / "out" / "a.png", photo)
    np.testing.assert_array_equal(read_image(tmp_path / "out" / "a.png"), photo)
    write_image(tmp_path / "a.JPG", photo)
    assert np.abs(read_image(tmp_path / "a.JPG").astype(int) - photo).mean() < 3
    rgba = np.dstack([photo, np.full((40, 60), 9, np.uint8)])
    write_image(tmp_path / "rgba.png", rgba)
    assert np.asarray(Image.open(tmp_path / "rgba.png")).shape == (40, 60, 4)
    depth = (np.arange(40 * 60, dtype=np.uint16) * 27).reshape(40, 60)
    write_image(tmp_path / "depth.png", depth)
    np.testing.assert_array_equal(
        cv2.imread(str(tmp_path / "depth.png"), cv2.IMREAD_UNCHANGED), depth
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "a.JPG", "depth.png", "out", "rgba.png"
    ]


@pytest.mark.parametrize(
    ("name", "array"),
    [
        ("a.gif", np.zeros((4, 4, 3), np.uint8)),
        ("a.jpg", np.zeros((4, 4, 4), np.uint8)),
        ("a.jpg", np.zeros((4, 4), np.uint16)),
        ("a.png", np.zeros((4, 4, 3), np.float32)),
        ("a.png", np.zeros((0, 4, 3), np.uint8)),
    ],
)
def test_write_rejects_bad_combinations(tmp_path, name, array):
    with pytest.raises(InvalidInputError):
        write_image(tmp_path / name, array)
    assert not any(tmp_path.iterdir())


def test_failed_write_leaves_the_old_file_whole(tmp_path, photo, monkeypatch):
    path = tmp_path / "keep.png"
    write_image(path, photo)
    original = path.read_bytes()

    def broken_save(self, fp, *args, **kwargs):
        Path(fp).write_bytes(b"half")
        raise OSError("disk full")

    monkeypatch.setattr(Image.Image, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        write_image(path, photo[::-1])
    assert path.read_bytes() == original
    assert [p.name for p in tmp_path.iterdir()] == ["keep.png"]


# ---- expanding inputs ----


@pytest.fixture
def tree(tmp_path, photo):
    folder = tmp_path / "photos"
    (folder / "sub").mkdir(parents=True)
    for name in ("b.jpg", "a.PNG", "sub/c.jpeg"):
        write_image(folder / name, photo)
    (folder / "readme.txt").write_text("not an image")
    (tmp_path / "empty").mkdir()
    return tmp_path


def test_expand_folder_is_sorted_and_filtered(tree):
    assert [p.name for p in expand_image_input(tree / "photos")] == ["a.PNG", "b.jpg"]


def test_expand_file_and_globs(tree):
    text = tree / "photos" / "readme.txt"
    assert expand_image_input(text) == [text]  # reading it will report it
    assert [p.name for p in expand_image_input(str(tree / "photos" / "*.jpg"))] == ["b.jpg"]
    recursive = expand_image_input(str(tree / "photos" / "**" / "*.jp*g"))
    assert [p.name for p in recursive] == ["b.jpg", "c.jpeg"]
    # a pattern matching folders expands them
    assert [p.name for p in expand_image_input(str(tree / "pho*"))] == ["a.PNG", "b.jpg"]


@pytest.mark.parametrize(
    ("relative", "problem"),
    [("absent.jpg", "no such file or folder"), ("empty", "no image files"),
     ("nothing*.png", "matches no image")],
)
def test_expand_bad_inputs_name_them(tree, relative, problem):
    item = str(tree / relative)
    with pytest.raises(ImageReadError, match=problem) as caught:
        expand_image_input(item)
    assert caught.value.path == item


def test_iter_image_paths_keeps_order_and_drops_repeats(tree):
    photos = tree / "photos"
    inputs = [str(photos / "b.jpg"), str(photos), str(photos / "sub" / "c.jpeg")]
    assert [p.name for p in iter_image_paths(inputs)] == ["b.jpg", "a.PNG", "c.jpeg"]
    with pytest.raises(ImageReadError, match="empty"):
        iter_image_paths([str(photos), str(tree / "empty")])
