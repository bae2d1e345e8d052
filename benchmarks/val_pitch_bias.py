"""Landmark error and vertical bias by head pitch, on a data build's validation split.

For each ``--weights`` file, every sample of the build's ``val`` split is predicted as the
trainer validates (black frames filled the same way, ``val_predictions.py``) and
its 68 decoded landmarks are compared in 2D with the sample's own position-map landmarks.
Per bin of the sample's head pitch (degrees, > 0 looking up; the ``pitch`` of its meta) it
reports the count, the mean NME (% of sqrt(w*h) of the landmark box) and the mean signed
vertical offset (% of the same; y down, so > 0 is too low) of the chin (point 8), the mouth
(48-67), the nose (27-35) and the eyes (36-47). A network that under-turns faces looking up
draws their chin too low.

    PYTHONPATH=src OPENBLAS_NUM_THREADS=1 python benchmarks/val_pitch_bias.py \
        --build /work/data/build-v3 --weights v4=v4.safetensors v5=v5.safetensors

Writes benchmarks/results/val_pitch_bias.json and prints the same JSON.
"""

from __future__ import annotations

import numpy as np
from common import LANDMARK_PARTS, write_result
from val_predictions import parse_weights_on_build, predict_landmarks

from facerecon.data.shards import read_shard_meta
from facerecon.evaluate.metrics import bbox_normalizer

COMMAND = ("PYTHONPATH=src OPENBLAS_NUM_THREADS=1 python benchmarks/val_pitch_bias.py "
           "--build BUILD --weights NAME=FILE [NAME=FILE ...]")
PITCH_EDGES = (-90.0, -30.0, -10.0, 10.0, 30.0, 90.0)
PARTS = {name: LANDMARK_PARTS[name] for name in ("chin", "mouth", "nose", "eyes")}


def by_pitch(predicted: np.ndarray, labels: np.ndarray, pitch: np.ndarray) -> list[dict]:
    """Per pitch bin: count, NME % and signed vertical offsets % (see the module docstring)."""
    box = np.atleast_1d(bbox_normalizer(labels))  # (N,) sqrt(w*h) of each label box
    offset = (predicted - labels) / box[:, None, None] * 100  # (N, 68, 2)
    nme = np.linalg.norm(offset, axis=2).mean(1)
    rows = []
    for low, high in zip(PITCH_EDGES[:-1], PITCH_EDGES[1:], strict=True):
        inside = (pitch >= low) & (pitch < high)
        row = {"pitch": [low, high], "samples": int(inside.sum()),
               "nme": round(float(nme[inside].mean()), 2)}
        row.update({f"{name}_dy": round(float(offset[inside, part, 1].mean()), 2)
                    for name, part in PARTS.items()})
        rows.append(row)
    return rows


def main() -> int:
    named, dataset = parse_weights_on_build(__doc__.splitlines()[0])
    pitch = np.array([meta["pitch"] for shard in dataset.shards
                      for meta in read_shard_meta(shard)], np.float64)
    models = {}
    for name, path in named.items():
        predicted, labels = predict_landmarks(dataset, path)
        models[name] = {"weights": str(path), "bins": by_pitch(predicted, labels, pitch)}
    write_result("val_pitch_bias", {"command": COMMAND, "build": str(dataset.data_dirs[0]),
                                    "val_samples": len(dataset), "models": models})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
