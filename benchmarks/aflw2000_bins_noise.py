"""How much of an AFLW2000-3D mean of yaw bins is noise? A bootstrap over the photos.

The shared AFLW2000-3D sample has 16 photos in |yaw| bins of 10, 4 and 2, so its mean of
bins weighs each of the two profile photos as much as five frontal ones. This resamples the
photos with replacement within each bin (the bin counts stay; 10,000 resamples, seed 0) and
reports, per pipeline, the spread of its mean of bins and plain mean (original 2D
annotation, the protocol of ``facerecon evaluate aflw2000``: ROI-box crops, NME / sqrt(w*h)),
and for every pipeline after the first the paired difference to the first (both computed on
the same resampled photos): its mean, standard deviation, 95 % interval and how often it is
above 0. Pipelines: ``--weights NAME=FILE`` with the options of ``common.add_pipeline_options``.

    PYTHONPATH=src OPENBLAS_NUM_THREADS=1 python benchmarks/aflw2000_bins_noise.py \\
        --data ../shared/data/aflw2000-3d --weights NAME=FILE [NAME=FILE ...] \\
        [--surface-sigma NAME=SIGMA ...] [--refine NAME=FILE ...] [--name aflw2000_bins_noise]

Writes benchmarks/results/<name>.json and prints the same JSON.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
from common import (
    add_named_weights,
    add_pipeline_options,
    named_weights,
    pipeline_reconstructors,
    write_result,
)
from paired_weights import aflw_errors

from facerecon.data.aflw2000 import Aflw2000Dataset
from facerecon.evaluate.metrics import yaw_bin

COMMAND = ("PYTHONPATH=src OPENBLAS_NUM_THREADS=1 python benchmarks/aflw2000_bins_noise.py "
           "--data ../shared/data/aflw2000-3d --weights NAME=FILE [NAME=FILE ...]")
RESAMPLES = 10_000


def stratified_resamples(bins: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """(count, N) photo indices: each row draws, within every bin, as many photos as the bin
    holds, with replacement; columns are grouped by bin in ascending bin order."""
    columns = []
    for index in np.unique(bins):
        members = np.flatnonzero(bins == index)
        columns.append(rng.choice(members, size=(count, members.size), replace=True))
    return np.concatenate(columns, axis=1)


def bin_means(errors: np.ndarray, bins: np.ndarray, draws: np.ndarray) -> np.ndarray:
    """(count,) mean of bins of ``errors`` (N,) over the photo draws (count, N)."""
    drawn, drawn_bins = errors[draws], bins[draws[0]]
    return np.mean([drawn[:, drawn_bins == b].mean(axis=1) for b in np.unique(bins)], axis=0)


def spread(values: np.ndarray) -> dict:
    """Mean, standard deviation and 2.5 / 97.5 percentiles of bootstrap values (%)."""
    low, high = np.percentile(values, [2.5, 97.5])
    return {"mean": round(float(values.mean()), 3), "sd": round(float(values.std()), 3),
            "interval_95": [round(float(low), 3), round(float(high), 3)]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="folder laid out like aflw2000-3d")
    add_named_weights(parser, "pipelines to compare; the first is the reference")
    add_pipeline_options(parser)
    parser.add_argument("--name", default="aflw2000_bins_noise",
                        help="result file name under benchmarks/results (no .json)")
    args = parser.parse_args()
    reconstructors = pipeline_reconstructors(parser, args, named_weights(parser, args.weights))
    dataset = Aflw2000Dataset(args.data)
    bins = yaw_bin([sample.yaw for sample in dataset])
    draws = stratified_resamples(bins, RESAMPLES, np.random.default_rng(0))
    errors = {name: aflw_errors(rec, dataset) for name, rec in reconstructors.items()}
    reference = next(iter(errors))
    pipelines = {}
    for name, values in errors.items():
        of_bins = bin_means(values, bins, draws)
        plain = values[draws].mean(axis=1)
        row = {"settings": reconstructors[name].settings,
               "mean_of_bins": round(float(np.mean([values[bins == b].mean()
                                                    for b in np.unique(bins)])), 3),
               "mean": round(float(values.mean()), 3),
               "bootstrap_mean_of_bins": spread(of_bins), "bootstrap_mean": spread(plain)}
        if name != reference:
            difference = of_bins - bin_means(errors[reference], bins, draws)
            row[f"mean_of_bins_minus_{reference}"] = {
                **spread(difference), "share_above_0": round(float(np.mean(difference > 0)), 3)}
        pipelines[name] = row
    result = {"command": COMMAND, "arguments": sys.argv[1:], "resamples": RESAMPLES,
              "bin_counts": [int(np.sum(bins == b)) for b in np.unique(bins)],
              "pipelines": pipelines}
    write_result(args.name, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
