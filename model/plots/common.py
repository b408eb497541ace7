"""Shared pieces of the plots: figures without pyplot, number formats, units, label placement."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Iterable, Sequence

from matplotlib import patheffects
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.transforms import Bbox

OUTPUT_UNIT = "10$^8$ yuan"  # 100 million yuan of value added (mathtext: no font needed)
OUTPUT_UNIT_TEXT = "10⁸ yuan"  # the same in HTML
HALO = [patheffects.withStroke(linewidth=2.4, foreground="white")]
GOOD, BAD, NEUTRAL = "#1a9850", "#d73027", "#4575b4"
NODATA, ZERO = "#c9c9c9", "#f4f4f4"
MACRO_COLORS = {"east": "#1f78b4", "central": "#33a02c", "west": "#e6a10b", "northeast": "#6a3d9a", "": "#7f7f7f"}


def new_figure(width: float, height: float, constrained: bool = False) -> Figure:
    """A figure on the Agg canvas, outside pyplot (no display, no global state to close)."""
    fig = Figure(figsize=(width, height), layout="constrained" if constrained else None)
    FigureCanvasAgg(fig)
    return fig


def agg_canvas(fig: Figure) -> FigureCanvasAgg:
    """The Agg canvas `new_figure` gave `fig`: its renderer and its pixels."""
    canvas = fig.canvas
    assert isinstance(canvas, FigureCanvasAgg), "figures are made by new_figure, on the Agg canvas"
    return canvas


def save(fig: Figure, path: Path, colors: int = 256) -> Path:
    """Render on the Agg canvas and write a palette PNG (a quarter of the size of RGBA, as sharp).

    The figure is not registered with pyplot, so there is nothing to close: dropping it frees it.
    """
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    fig.set_facecolor("white")
    canvas = agg_canvas(fig)
    canvas.draw()
    image = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    image = image.convert("RGB").quantize(colors=colors, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    dpi = fig.get_dpi()
    tmp = path.with_name(f".{path.name}.tmp")
    image.save(tmp, format="PNG", optimize=False, compress_level=6, dpi=(dpi, dpi))
    tmp.replace(path)
    return path


_SUPER = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def pretty_unit(unit: str) -> str:
    """Units as printed: 10^4 m3 → 10⁴ m³, km2 → km², CO2 → CO₂ (glyphs that DejaVu Sans has)."""
    import re

    text = str(unit or "")
    text = re.sub(r"10\^\{?(-?\d+)\}?", lambda m: "10" + m.group(1).translate(_SUPER), text)
    text = re.sub(r"\b(k?m|c?m)([23])\b", lambda m: m.group(1) + ("²" if m.group(2) == "2" else "³"), text)
    text = re.sub(r"\bCO2\b", "CO₂", text)
    return text


def slug(text: str) -> str:
    keep = "".join(c if c.isalnum() or c in "-_" else "_" for c in str(text))
    return keep.strip("_") or "x"


def _nice_below(v: float) -> float:
    """The largest round number (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8 × 10^k) not above v."""
    p = 10 ** math.floor(math.log10(v))
    return max(m * p for m in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10) if m * p <= v * (1 + 1e-9))


def nice_levels(vmax: float) -> list[float]:
    """Round reference values for a size legend: about vmax, vmax/3 and vmax/10."""
    if not vmax or vmax <= 0 or not math.isfinite(vmax):
        return []
    out = []
    for f in (1, 1 / 3, 1 / 10):
        v = _nice_below(vmax * f)
        if v not in out:
            out.append(v)
    return out


def _overlaps(box: Bbox, boxes: Iterable[Bbox]) -> bool:
    return any(box.overlaps(b) for b in boxes)


def place_labels(
    ax,
    items: Sequence[tuple[float, float, str]],
    *,
    fontsize: float = 7.5,
    obstacles: Iterable[Bbox] = (),
    max_labels: int | None = None,
    weight: str = "normal",
    force_first: int = 0,
    point_pad: float = 3.0,
    at_point: bool = True,
) -> int:
    """Write labels at data points without overlaps, in the order given (most important first).

    Each label goes at its point, or, if that collides with an earlier label, an obstacle or the
    axes edge, at the first free position around it (then with a thin leader line). Labels with
    no free position are left out, except the first `force_first`. With `at_point` False a label
    never covers its point (for points that carry a symbol of their own, such as flow nodes). The
    axes must have its final position (fixed layout); returns how many labels were written.
    """
    fig = ax.figure
    renderer = fig.canvas.get_renderer()
    ax.apply_aspect()
    frame = ax.get_window_extent(renderer)
    placed: list[Bbox] = [b.expanded(1.0, 1.0) for b in obstacles]
    px = fig.dpi / 72.0
    written = 0
    for n, (x, y, text) in enumerate(items):
        if max_labels is not None and written >= max_labels:
            break
        t = ax.text(0, 0, text, fontsize=fontsize, ha="center", va="center", weight=weight)
        size = t.get_window_extent(renderer)
        t.remove()
        w, h = size.width + 2 * px, size.height + 2 * px
        cx, cy = ax.transData.transform((x, y))
        d = point_pad * px
        candidates = [(0, 0)] if at_point else []
        for step in (1.0, 1.9, 2.8):
            dy, dx = (h / 2 + d) * step, (w / 2 + d) * step**0.7
            candidates += [(0, dy), (0, -dy), (dx, 0), (-dx, 0), (dx, dy), (-dx, dy), (dx, -dy), (-dx, -dy)]
        chosen = None
        for ox, oy in candidates:
            box = Bbox.from_bounds(cx + ox - w / 2, cy + oy - h / 2, w, h)
            inside = box.x0 >= frame.x0 and box.x1 <= frame.x1 and box.y0 >= frame.y0 and box.y1 <= frame.y1
            if inside and not _overlaps(box, placed):
                chosen = (ox, oy, box)
                break
        if chosen is None:
            if n >= force_first:
                continue
            ox, oy = candidates[0]
            chosen = (ox, oy, Bbox.from_bounds(cx + ox - w / 2, cy + oy - h / 2, w, h))
        ox, oy, box = chosen
        if ox == 0 and oy == 0:
            ax.text(
                x, y, text, fontsize=fontsize, ha="center", va="center", weight=weight, path_effects=HALO, zorder=20
            )
        else:
            ax.annotate(
                text,
                xy=(x, y),
                xytext=(ox / px, oy / px),
                textcoords="offset points",
                fontsize=fontsize,
                ha="center",
                va="center",
                weight=weight,
                path_effects=HALO,
                zorder=20,
                arrowprops=dict(arrowstyle="-", color="#555555", lw=0.6, shrinkA=0, shrinkB=1),
            )
        placed.append(box)
        written += 1
    return written
