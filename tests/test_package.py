import subprocess
import sys

import numpy as np
import pytest

import facerecon
from facerecon import Detection, InvalidInputError
from facerecon.cli.main import main


def test_public_api_lists_only_existing_names():
    for name in facerecon.__all__:
        assert hasattr(facerecon, name), name


def test_cli_help_runs_as_installed_script():
    result = subprocess.run(
        [sys.executable, "-m", "facerecon.cli.main", "--help"], capture_output=True, text=True
    )
    assert result.returncode == 0
    assert "usage: facerecon" in result.stdout


def test_cli_without_command_prints_help_and_fails(capsys):
    assert main([]) == 2
    assert "usage: facerecon" in capsys.readouterr().out


def test_detection_copies_and_freezes_its_box():
    box = np.array([10, 20, 110, 140], dtype=np.float64)
    detection = Detection(box=box, score=0.9)
    box[0] = 999
    assert detection.box[0] == 10
    assert detection.box.dtype == np.float32
    with pytest.raises(ValueError):
        detection.box[0] = 1


@pytest.mark.parametrize("bad", [[10, 20, 5, 30], [0, 0, np.nan, 10], [1, 2, 3]])
def test_detection_rejects_bad_boxes(bad):
    with pytest.raises(InvalidInputError):
        Detection(box=bad)
