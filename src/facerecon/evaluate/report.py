"""Markdown tables of evaluation results (strings; the CLI prints them).

>>> from facerecon.evaluate.metrics import binned_errors
>>> table = binned_table({"ours": {"original": binned_errors([0.02, 0.04], [10, 45])}})
>>> print(table.splitlines()[2])
| ours | original 2D | 2.00 | 4.00 | - | 3.00 | 3.00 |
"""

from __future__ import annotations

from collections.abc import Mapping

from facerecon.evaluate.metrics import YAW_BIN_LABELS, BinnedError

#: How each error key is named in a table.
ERROR_LABELS = {
    "original": "original 2D",
    "reannotated": "re-annotated 2D",
    "original_3d": "original 3D (z centred)",
    "dense_3d": "dense 3D (z centred)",
    "dense_2d": "dense 2D",
    "landmarks_2d": "68 landmarks 2D",
}


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.2f}"


def binned_table(rows: Mapping[str, Mapping[str, BinnedError]]) -> str:
    """One line per (row, error key): NME (%) per |yaw| bin, mean of bins, plain mean.

    Args:
        rows: row label (a model, the teacher, a predictions file) -> error key -> summary.
            The bin counts in the header are those of the first summary (every row of one
            evaluation scores the same images).
    """
    first = next(iter(next(iter(rows.values())).values()))
    bins = [f"{label} (n={count})" for label, count in zip(YAW_BIN_LABELS, first.counts,
                                                            strict=True)]
    lines = [
        "| predictions | error | " + " | ".join(bins) + " | mean of bins | mean |",
        "|---|---|" + "---:|" * (len(bins) + 2),
    ]
    for name, summaries in rows.items():
        for key, summary in summaries.items():
            cells = [_percent(m) for m in summary.bin_means]
            cells += [_percent(summary.mean_of_bins), _percent(summary.mean)]
            lines.append(f"| {name} | {ERROR_LABELS.get(key, key)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def w300_table(rows: Mapping[str, object]) -> str:
    """One line per row of :class:`~facerecon.evaluate.w300.W300Result`: mean, median,
    failure rate (all %)."""
    lines = [
        "| predictions | faces | mean NME | median NME | failure rate (NME > 8%) |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, result in rows.items():
        lines.append(
            f"| {name} | {len(result.names)} | {_percent(result.mean)} | "
            f"{_percent(result.median)} | {_percent(result.failure_rate)} |"
        )
    return "\n".join(lines)
