"""Device strings: "auto", torch's own, and clear errors for typos and missing CUDA."""

import pytest
import torch

from facerecon.errors import InvalidInputError
from facerecon.models import resolve_device
from facerecon.predictor import NetworkPredictor


def test_cpu_and_auto():
    assert resolve_device("cpu") == torch.device("cpu")
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected


def test_a_typo_is_named():
    with pytest.raises(InvalidInputError, match="'cdua' is not a torch device"):
        resolve_device("cdua")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_without_cuda_is_a_clear_error_before_any_weights_load(tmp_path):
    with pytest.raises(InvalidInputError, match="torch sees no CUDA device"):
        resolve_device("cuda:1")
    # the pipeline refuses it before reading the weights (here: a file that does not exist)
    with pytest.raises(InvalidInputError, match="no CUDA"):
        NetworkPredictor("mobile_posmap128", weights=tmp_path / "absent.safetensors",
                         device="cuda")
