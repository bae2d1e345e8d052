"""Speed of the input and crop stages: read a photo, crop it, map a position map back.

Median (and p90) over 200 runs after 20 warm-up runs, 2 threads, one 300-W AFW JPEG
(448 x 448) from shared/data; the crop is 256 x 256, the position map (256, 256, 3) float32.

    FACERECON_SHARED_DATA=/work/shared/data PYTHONPATH=src OMP_NUM_THREADS=2 \\
        /work/venv/bin/python benchmarks/crop_speed.py
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
from common import median_ms, set_threads, write_result

from facerecon.crop import crop_from_box
from facerecon.imageio import read_image

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("FACERECON_SHARED_DATA", REPO.parent / "shared" / "data"))
IMAGE = DATA / "300w" / "afw" / "1051618982_1.jpg"
COMMAND = ("FACERECON_SHARED_DATA=/work/shared/data PYTHONPATH=src OMP_NUM_THREADS=2 "
           "/work/venv/bin/python benchmarks/crop_speed.py")
WARMUP, RUNS = 20, 200


def timed(function) -> dict:
    return median_ms(function, RUNS, WARMUP, percentiles={"p90_ms": 90}, digits=4)


def main() -> None:
    if not IMAGE.exists():
        sys.exit(f"missing {IMAGE}")
    set_threads(2)
    image = read_image(IMAGE)
    box = [100.0, 100.0, 300.0, 320.0]
    crop = crop_from_box(box, 256, 1.6, 0.0)
    posmap = np.random.default_rng(0).uniform(0, 256, size=(256, 256, 3)).astype(np.float32)
    report = {
        "command": COMMAND,
        "protocol": f"median and p90 of {RUNS} runs after {WARMUP} warm-up runs, 2 threads, "
                    "machine shared with other jobs (timings are noisy)",
        "image": f"{IMAGE.relative_to(DATA)} {image.shape[1]}x{image.shape[0]}",
        "stages": {
            "read_image_jpeg": timed(lambda: read_image(IMAGE)),
            "crop_from_box_and_warp_256": timed(lambda: crop_from_box(box, 256).warp(image)),
            "to_image_posmap_256": timed(lambda: crop.to_image(posmap)),
        },
    }
    write_result("crop_speed", report, indent=1)


if __name__ == "__main__":
    main()
