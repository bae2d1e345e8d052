"""How much strong head pitch a data build holds.

Reads only the per-sample ``meta`` of every shard of each ``--build`` and reports, for all
samples and for the synthetic views alone, the 1st / 50th / 99th percentile of the sample's
head pitch (degrees, > 0 looking up, the ICT pose convention of :mod:`facerecon.apps.pose`)
and the share of samples with |pitch| >= 30 and with pitch >= 30 (AFLW2000-3D has faces
looking up 30-40 degrees).

    PYTHONPATH=src python benchmarks/build_pitch.py --build BUILD [BUILD ...]

Writes benchmarks/results/build_pitch.json and prints the same JSON.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from common import write_result

from facerecon.data.shards import list_shards, read_shard_meta

COMMAND = "PYTHONPATH=src python benchmarks/build_pitch.py --build BUILD [BUILD ...]"
STRONG_DEG = 30.0


def pitch_summary(pitch: np.ndarray) -> dict:
    """Percentiles and strong-pitch shares of (N,) pitches in degrees."""
    p1, p50, p99 = np.percentile(pitch, [1, 50, 99])
    return {"samples": int(pitch.size), "p1": round(float(p1), 1), "p50": round(float(p50), 1),
            "p99": round(float(p99), 1),
            "share_abs_ge_30": round(float((np.abs(pitch) >= STRONG_DEG).mean()), 4),
            "share_up_ge_30": round(float((pitch >= STRONG_DEG).mean()), 4)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", type=Path, nargs="+", required=True, help="build folders")
    args = parser.parse_args()
    builds = {}
    for folder in args.build:
        metas = [meta for shard in list_shards(folder) for meta in read_shard_meta(shard)]
        pitch = np.array([meta["pitch"] for meta in metas], np.float64)
        synthetic = np.array([meta["synthetic"] for meta in metas], bool)
        builds[str(folder)] = {"all": pitch_summary(pitch),
                               "synthetic": pitch_summary(pitch[synthetic])}
    write_result("build_pitch", {"command": COMMAND, "builds": builds})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
