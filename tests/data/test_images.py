import pytest
from shared_data import require_shared

from facerecon.data.images import iter_image_files, parse_utkface_name
from facerecon.errors import DataNotFoundError


def test_iter_image_files(tmp_path):
    for name in ("b.JPG", "a.png", "notes.txt"):
        (tmp_path / name).write_bytes(b"")
    assert [p.name for p in iter_image_files(tmp_path)] == ["a.png", "b.JPG"]
    with pytest.raises(DataNotFoundError):
        list(iter_image_files(tmp_path / "nope"))


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("25_1_3_20170104231305129.jpg.chip.jpg", (25, 1, 3, "20170104231305129")),
        ("24_0_1_20170116220224657 .jpg.chip.jpg", (24, 0, 1, "20170116220224657")),
        ("61_1_20170109150557335.jpg.chip.jpg", (61, 1, None, "20170109150557335")),
        ("14_0_0_2017011022340900.jpg.chip.jpg", (14, 0, 0, "2017011022340900")),
        ("holiday.jpg", (None, None, None, None)),
    ],
)
def test_parse_utkface_name(name, expected):
    labels = parse_utkface_name(name)
    assert (labels.age, labels.gender, labels.race, labels.timestamp) == expected


def test_shared_utkface_names():
    folder = require_shared("utkface")
    labels = [parse_utkface_name(path.name) for path in iter_image_files(folder)]
    assert len(labels) == 11854
    genders = [label.gender for label in labels]
    # shared/data/README.md counts 6188 / 5664 without its two odd names (one male, one female).
    assert genders.count(0) == 6188 + 1 and genders.count(1) == 5664 + 1
    assert sum(label.race is None for label in labels) == 1
    assert all(label.age is not None and label.timestamp for label in labels)


def test_doctests():
    import doctest

    from facerecon.data import images

    assert doctest.testmod(images).failed == 0
