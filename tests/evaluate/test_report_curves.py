"""Markdown tables, |yaw| bins with known values, and the OpenCV CED chart."""

import doctest

import numpy as np
import pytest

from facerecon.errors import InvalidInputError
from facerecon.evaluate import curves, report
from facerecon.evaluate.metrics import binned_errors
from facerecon.evaluate.w300 import W300Result


def test_doctests():
    for module in (curves, report):
        assert doctest.testmod(module).failed == 0


def test_bins_with_known_values():
    # |yaw| 30 is in the first bin, 30.5 and 60 in the second, -61 and 95 in the third
    summary = binned_errors([0.01, 0.03, 0.02, 0.04, 0.06, 0.08], [0, 30, 30.5, -60, -61, 95])
    assert summary.counts == (2, 2, 2)
    assert summary.bin_means == pytest.approx((0.02, 0.03, 0.07))
    assert summary.mean_of_bins == pytest.approx(0.04)
    assert summary.mean == pytest.approx(0.04)
    lopsided = binned_errors([0.01, 0.01, 0.01, 0.07], [1, 2, 3, 80])
    assert lopsided.mean_of_bins == pytest.approx(0.04)  # empty middle bin left out
    assert lopsided.mean == pytest.approx(0.025)


def test_binned_table_rows_and_header():
    summary = binned_errors([0.01, 0.03, 0.07], [5, 45, 75])
    text = report.binned_table({"ours": {"original": summary, "original_3d": summary},
                                "teacher": {"original": summary}})
    lines = text.splitlines()
    assert lines[0].startswith("| predictions | error | [0,30] (n=1) | (30,60] (n=1) |")
    assert lines[2] == "| ours | original 2D | 1.00 | 3.00 | 7.00 | 3.67 | 3.67 |"
    assert lines[3].startswith("| ours | original 3D (z centred) |")
    assert lines[4].startswith("| teacher | original 2D |") and len(lines) == 5


def test_w300_table():
    result = W300Result(("a.jpg", "b.jpg"), np.array([0.02, 0.10]))
    line = report.w300_table({"ours": result}).splitlines()[2]
    assert line == "| ours | 2 | 6.00 | 6.00 | 50.00 |"


def test_ced_chart_draws_each_curve():
    rng = np.random.default_rng(0)
    chart = curves.draw_ced({"a": rng.uniform(1, 4, 50), "b": rng.uniform(2, 8, 30)},
                            title="t", size=(300, 400))
    assert chart.shape == (300, 400, 3) and chart.dtype == np.uint8
    for colour in curves.PALETTE[:2]:
        assert np.any(np.all(chart == colour, axis=2)), f"no pixel of {colour}"
    assert not np.any(np.all(chart == curves.PALETTE[2], axis=2))
    png = curves.encode_png(chart)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(InvalidInputError):
        curves.draw_ced({})
    with pytest.raises(InvalidInputError):
        curves.cumulative_curve([], [1.0])


def test_cumulative_curve_known_values():
    values = curves.cumulative_curve([1, 2, 2, 4], [0, 1, 2, 3, 4, 5])
    assert values.tolist() == [0.0, 0.25, 0.75, 0.75, 1.0, 1.0]
