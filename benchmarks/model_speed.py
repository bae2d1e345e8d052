"""Speed of every registered network on the CPU: latency, throughput, training rate.

For each model (random weights; speed does not depend on their values):

- batch-1 latency, median of ``--repeats`` runs after warm-up, for: the registered module
  in fp32; the inference copy (batch norm folded, channels-last) in fp32; the same under
  bf16 autocast;
- batch-1 CPU time of the calling thread on one thread (a load-independent check of the
  above on a shared machine);
- batch-16 throughput (images/s) of the inference copy, fp32 and bf16;
- training throughput (images/s): median over a few Adam steps at batch 32 with bf16
  autocast + channels-last, loss = mean squared error to a random map;
- how far bf16 moves the output: mean and max |bf16 - fp32| in crop pixels, after a few
  train-mode passes on random images give batch norm non-trivial statistics.

Run from the repository root (2 threads, as every speed number in this project):

    PYTHONPATH=src OMP_NUM_THREADS=2 python benchmarks/model_speed.py

Prints JSON and writes benchmarks/results/model_speed.json. The development machines are
shared, so the load average at start and end is recorded beside the numbers.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from pathlib import Path

import numpy as np
import torch
from common import RESULTS, load_average, time_ms, write_result

from facerecon.models import create_model, get_config, list_models, prepare_for_inference

COMMAND = "PYTHONPATH=src OMP_NUM_THREADS=2 python benchmarks/model_speed.py"


def _median_seconds(step, repeats: int, warmup: int, cpu: bool = False) -> float:
    """Median seconds of ``step()``: wall clock, or with ``cpu`` CPU time of this thread."""
    wall, cpu_ms = time_ms(step, repeats, warmup, cpu="thread" if cpu else None)
    return float(np.median(cpu_ms if cpu else wall)) / 1e3


def _inference_seconds(model, inputs, bf16: bool, repeats: int, warmup: int = 10, **kw) -> float:
    def step():
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            model(inputs)

    return _median_seconds(step, repeats, warmup, **kw)


def _cpu_ms_one_thread(model, inputs, bf16: bool, repeats: int) -> float:
    """CPU time of this thread per batch-1 run on one thread: barely moved by other load."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return 1e3 * _inference_seconds(model, inputs, bf16, repeats, cpu=True)
    finally:
        torch.set_num_threads(threads)


def _calibrate_batchnorm(model, size: int) -> None:
    """A few train-mode passes so batch-norm statistics are those of real activations."""
    model.train()
    with torch.no_grad():
        for _ in range(3):
            model(torch.rand(4, 3, size, size))
    model.eval()


def _bf16_error(prepared, size: int) -> dict:
    inputs = torch.rand(4, 3, size, size).contiguous(memory_format=torch.channels_last)
    with torch.inference_mode():
        exact = prepared(inputs)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            rounded = prepared(inputs).float()
    error = (rounded - exact).abs()
    return {"mean_px": round(error.mean().item(), 4), "max_px": round(error.max().item(), 4)}


def _training_images_per_second(name: str, size: int, steps: int) -> float:
    model = create_model(name).train().to(memory_format=torch.channels_last)
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-4)
    inputs = torch.rand(32, 3, size, size).contiguous(memory_format=torch.channels_last)
    target = torch.rand(32, 3, size, size) * get_config(name).output_scale

    def step():
        optimiser.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            out = model(inputs)
        torch.nn.functional.mse_loss(out.float(), target).backward()
        optimiser.step()

    return 32 / _median_seconds(step, steps, warmup=1)


def _cpu_name() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.machine()


def measure(name: str, repeats: int, train_steps: int) -> dict:
    config = get_config(name)
    size = config.input_size
    torch.manual_seed(0)
    model = create_model(name)
    _calibrate_batchnorm(model, size)
    prepared = prepare_for_inference(model, channels_last=True)
    one = torch.rand(1, 3, size, size)
    one_cl = one.contiguous(memory_format=torch.channels_last)
    sixteen_cl = torch.rand(16, 3, size, size).contiguous(memory_format=torch.channels_last)
    batch_repeats = max(5, repeats // 5)
    row = {
        "params": sum(p.numel() for p in model.parameters()),
        "input_size": size,
        "output_size": config.output_size,
        "batch1_ms": {
            "fp32_registered": 1e3 * _inference_seconds(model, one, False, repeats),
            "fp32_folded_channels_last": 1e3 * _inference_seconds(prepared, one_cl, False, repeats),
            "bf16_folded_channels_last": 1e3 * _inference_seconds(prepared, one_cl, True, repeats),
        },
        "batch1_cpu_ms_one_thread": {
            "fp32_folded_channels_last": _cpu_ms_one_thread(prepared, one_cl, False, repeats),
            "bf16_folded_channels_last": _cpu_ms_one_thread(prepared, one_cl, True, repeats),
        },
    }
    row["batch16_images_per_s"] = {
        f"{kind}_folded_channels_last": 16 / _inference_seconds(
            prepared, sixteen_cl, kind == "bf16", batch_repeats, warmup=2
        )
        for kind in ("fp32", "bf16")
    }
    row["train_images_per_s_bf16_channels_last_batch32"] = _training_images_per_second(
        name, size, train_steps
    )
    row["bf16_minus_fp32_output"] = _bf16_error(prepared, size)
    return json.loads(json.dumps(row), parse_float=lambda text: round(float(text), 2))


def markdown_table(report: dict) -> str:
    """The docs/models.md table of a report."""
    lines = [
        "| model | params | b1 fp32 ms | b1 fp32 folded+CL ms | b1 bf16 folded+CL ms "
        "| b1 CPU ms, 1 thread, fp32 / bf16 | b16 img/s fp32 / bf16 | train img/s (b32 bf16) "
        "| bf16 error px mean / max |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, row in report["models"].items():
        ms, cpu = row["batch1_ms"], row["batch1_cpu_ms_one_thread"]
        b16, err = row["batch16_images_per_s"], row["bf16_minus_fp32_output"]
        lines.append(
            f"| `{name}` | {row['params']:,} | {ms['fp32_registered']} "
            f"| {ms['fp32_folded_channels_last']} | {ms['bf16_folded_channels_last']} "
            f"| {cpu['fp32_folded_channels_last']} / {cpu['bf16_folded_channels_last']} "
            f"| {b16['fp32_folded_channels_last']} / {b16['bf16_folded_channels_last']} "
            f"| {row['train_images_per_s_bf16_channels_last_batch32']} "
            f"| {err['mean_px']} / {err['max_px']} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="*", default=list_models())
    parser.add_argument("--repeats", type=int, default=50, help="timed batch-1 runs (median)")
    parser.add_argument("--train-steps", type=int, default=5, help="timed Adam steps (median)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--output", type=Path, default=RESULTS / "model_speed.json")
    parser.add_argument(
        "--table", action="store_true", help="print the Markdown table of --output and stop"
    )
    args = parser.parse_args(argv)
    if args.table:
        sys.stdout.write(markdown_table(json.loads(args.output.read_text())) + "\n")
        return 0
    torch.set_num_threads(args.threads)
    load_before = load_average()
    results = {name: measure(name, args.repeats, args.train_steps) for name in args.models}
    report = {
        "command": " ".join([COMMAND, *(argv if argv is not None else sys.argv[1:])]),
        "method": (
            f"median of {args.repeats} batch-1 runs after 10 warm-up runs (wall clock on "
            f"{args.threads} threads; CPU time of one thread on 1 thread); batch 16: median of "
            f"{max(5, args.repeats // 5)} runs; training: median of {args.train_steps} Adam steps "
            "at batch 32 after 1 warm-up step; random weights"
        ),
        "threads": args.threads,
        "torch": torch.__version__,
        "cpu": _cpu_name(),
        "load_average_before_after": [load_before, load_average()],
        "models": results,
    }
    write_result("model_speed", report, path=args.output)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
