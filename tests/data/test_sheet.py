"""Landmark drawing and contact sheets: new arrays, visible and hidden styled apart."""

from __future__ import annotations

import numpy as np
import pytest

from facerecon.data.sheet import HIDDEN_COLOR, VISIBLE_COLOR, contact_sheet, draw_landmarks
from facerecon.errors import InvalidInputError


def test_visible_dots_and_hidden_rings_differ():
    image = np.zeros((120, 120, 3), np.uint8)
    points = np.stack([np.linspace(10, 110, 68), np.full(68, 60.0)], axis=1)
    visible = np.arange(68) < 34
    drawn = draw_landmarks(image, points, visible)
    assert not image.any() and drawn.shape == image.shape  # input untouched
    left, right = drawn[:, :55].reshape(-1, 3), drawn[:, 65:].reshape(-1, 3)
    assert (left == VISIBLE_COLOR).all(axis=1).any() and not (right == VISIBLE_COLOR).all(1).any()
    assert (right == HIDDEN_COLOR).all(axis=1).any() and not (left == HIDDEN_COLOR).all(1).any()


def test_contact_sheet_tiles_rows():
    tile = np.full((10, 10, 3), 200, np.uint8)
    sheet = contact_sheet([[tile, tile], [tile]], [["a", ""], [""]], gap=2)
    assert sheet.shape == (2 * 10 + 3 * 2, 2 * 10 + 3 * 2, 3)
    assert (sheet[14:24, 2:12] == 200).all()
    with pytest.raises(InvalidInputError):
        contact_sheet([[tile, np.zeros((5, 5, 3), np.uint8)]])
