"""SVG charts drawn on the server: horizontal share bars, with or without error bars.

Each chart is a ``viewBox`` scaled to its container's width (a laptop or a phone), with its
numbers in text too, and no inline style (the console's content policy allows none).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from markupsafe import Markup, escape

__all__ = ["Bar", "bar_chart"]

_WIDTH: Final = 600
_ROW: Final = 30
_LABEL: Final = 160  # the left column of labels
_VALUE: Final = 150  # the right column of figures
_PLOT: Final = _WIDTH - _LABEL - _VALUE


@dataclass(frozen=True, slots=True)
class Bar:
    """One row: a share in [0, 1], optionally with its margin as an interval [low, high]."""

    label: str
    share: float
    figure: str
    low: float | None = None
    high: float | None = None


def bar_chart(bars: Sequence[Bar], title: str) -> Markup:
    """A horizontal bar chart of ``bars``; rows with an interval get an error bar."""
    height = max(len(bars), 1) * _ROW + 8
    rows = "".join(_row(index, bar) for index, bar in enumerate(bars))
    # Every text in it went through escape(); the rest is numbers and our own markup.
    return Markup(  # noqa: S704
        f'<svg class="chart" role="img" viewBox="0 0 {_WIDTH} {height}" '
        f'preserveAspectRatio="xMinYMin meet" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>{rows}</svg>"
    )


def _x(share: float) -> float:
    return _LABEL + _PLOT * min(max(share, 0.0), 1.0)


def _row(index: int, bar: Bar) -> str:
    top = 4 + index * _ROW
    middle = top + _ROW / 2
    width = _x(bar.share) - _LABEL
    parts = [
        f'<text class="label" x="{_LABEL - 6}" y="{middle + 4}" text-anchor="end">'
        f"{escape(_clipped(bar.label))}</text>",
        f'<rect class="track" x="{_LABEL}" y="{top + 4}" width="{_PLOT}" height="{_ROW - 8}"/>',
        f'<rect class="bar" x="{_LABEL}" y="{top + 4}" width="{width:.1f}" height="{_ROW - 8}"/>',
        f'<text class="figure" x="{_WIDTH - 4}" y="{middle + 4}" text-anchor="end">'
        f"{escape(bar.figure)}</text>",
    ]
    if bar.low is not None and bar.high is not None:
        parts.append(_error_bar(_x(bar.low), _x(bar.high), top + 6, top + _ROW - 6))
    return f'<g class="row">{"".join(parts)}</g>'


def _error_bar(left: float, right: float, top: float, bottom: float) -> str:
    middle = (top + bottom) / 2
    return (
        f'<g class="error-bar"><line x1="{left:.1f}" y1="{middle}" x2="{right:.1f}" '
        f'y2="{middle}"/><line x1="{left:.1f}" y1="{top}" x2="{left:.1f}" y2="{bottom}"/>'
        f'<line x1="{right:.1f}" y1="{top}" x2="{right:.1f}" y2="{bottom}"/></g>'
    )


def _clipped(label: str, most: int = 20) -> str:
    return label if len(label) <= most else label[: most - 1] + "…"
