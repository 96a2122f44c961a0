"""The one table every benchmark prints into: figure, baseline, ratio."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    name: str
    value: float
    baseline_name: str
    baseline: float
    unit: str

    @property
    def ratio(self) -> float:
        return self.value / self.baseline if self.baseline else float("inf")


def render(figures: list[Figure]) -> str:
    header = f"{'figure':<34} {'value':>10} {'baseline':<30} {'value':>10}  ratio"
    lines = [header, "-" * len(header)]
    for figure in figures:
        if not figure.baseline_name:  # a figure reported beside the one above it
            lines.append(f"{figure.name:<34} {figure.value:>8.3f}{figure.unit:<2}")
            continue
        lines.append(
            f"{figure.name:<34} {figure.value:>8.3f}{figure.unit:<2} {figure.baseline_name:<30} "
            f"{figure.baseline:>8.3f}{figure.unit:<2}  {figure.ratio:5.2f}x"
        )
    return "\n".join(lines)
