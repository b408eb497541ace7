"""Synthetic datasets in the dataset format (docs/dataset.md), for scale tests and benchmarks.

`synthesize(regions, clusters, out, disruptions=None, seed=0)` writes a dataset folder that
`model.dataset.load_dataset` reads and that a baseline-like scenario (concentration cap 0.35,
hinterland share 0.3, disruption survival 0.6, three minimum sites, keep half of existing output)
can solve. The numbers are invented, but their structure mirrors the default dataset:

- regions fall into the four macro-regions (about 35 % east, 25 % central, 30 % west, 10 %
  northeast), are scattered around real provincial capitals inside China's bounding box, and
  the hinterland is central + west; 3–6 strategy areas each take the regions nearest an anchor;
- clusters come in the five categories, about 30 % are critical; future and strategic clusters
  prefer rich (east) regions, traditional and characteristic ones the resource-rich west;
- five resources (land, water, energy, carbon, environment) with national capacity 1.5–2× what
  the targets need;
- each cluster can be hosted in 40–80 % of regions, has max_sites of 15–30 % of the regions (at
  least 6 for a critical cluster), existing output in a few of its best cells, and a min_scale
  below the output of any site of the reference layout (below);
- disruptions lose spatially clustered sets of regions (the nearest neighbours of a seed region,
  5–15 % of all regions).

Feasibility by construction: the generator first draws a *reference layout* that meets every goal
of the baseline-like scenario with margin — 50–90 % of max_sites sites per cluster, drawn with
probability ∝ score, output spread almost evenly (so max_sites × the capacity of a site covers the
target), critical clusters at most 30 % in one region, 40 % of their sites in the hinterland and at
most 38 % inside any disruption. Each ceiling holds that layout's use × 1.01–1.1, plus the rest of
the 1.5–2× national capacity spread by population and area and tilted away from the attractive
regions. Suitability follows income instead, so the optimum crowds into the attractive regions
and their ceilings bind there. Existing output sits in reference sites, at most 1.8 × the reference
output, so keeping half of it fits. `generate(...)["_reference"]` returns that layout.

Everything is drawn from one `numpy.random.Generator` in a fixed order and every CSV is rounded
before it is written, so one seed gives byte-identical files. All steps are vectorised: 2,844
regions × 40 clusters × 50 disruptions generate in about 0.1 s and are written in about 0.3 s.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse

from model.errors import InputError

GENERATOR = "model.synth v1"

MACRO_REGIONS = ("east", "central", "west", "northeast")
MACRO_SHARE = np.array([0.35, 0.25, 0.30, 0.10])
# Sub-centres (lon, lat) per macro-region — real provincial capitals — and the spread around them in degrees.
CENTRES = {
    "east": [
        (116.4, 39.9),
        (117.2, 39.1),
        (114.5, 38.0),
        (117.0, 36.7),
        (118.8, 32.1),
        (121.5, 31.2),
        (120.2, 30.3),
        (119.3, 26.1),
        (113.3, 23.1),
        (110.3, 20.0),
    ],
    "central": [(112.5, 37.9), (113.6, 34.8), (117.3, 31.9), (114.3, 30.6), (115.9, 28.7), (112.9, 28.2)],
    "west": [
        (104.1, 30.7),
        (106.5, 29.6),
        (106.7, 26.6),
        (102.7, 25.0),
        (108.3, 22.8),
        (108.9, 34.3),
        (103.8, 36.1),
        (101.8, 36.6),
        (106.3, 38.5),
        (111.7, 40.8),
        (87.6, 43.8),
        (91.1, 29.6),
    ],
    "northeast": [(123.4, 41.8), (125.3, 43.9), (126.6, 45.8)],
}
SPREAD = {"east": 1.2, "central": 1.2, "west": 2.2, "northeast": 1.5}
BBOX = (73.5, 135.0, 18.0, 53.5)  # lon min, lon max, lat min, lat max
# Per macro-region: population weight, GDP per head, area weight, attractiveness bonus.
MACRO_POP = np.array([1.4, 1.3, 0.8, 0.9])
MACRO_GDP_PC = np.array([1.45, 0.9, 0.8, 0.8])
MACRO_AREA = np.array([0.6, 0.9, 2.8, 1.5])
MACRO_ATTRACT = np.array([0.5, 0.1, -0.2, -0.1])
NATIONAL = {"population": 140_828.0, "gdp": 1_349_084.0, "area_km2": 9_600_000.0}
# Anchors of strategy areas (lon, lat): Yangtze delta, Jing-Jin-Ji, Greater Bay, Chengdu-Chongqing,
# middle Yangtze, Guanzhong.
ANCHORS = [(121.0, 31.0), (116.5, 39.5), (113.5, 23.0), (105.0, 30.0), (114.0, 29.5), (108.5, 34.5)]

CATEGORIES = ("future", "strategic_emerging", "advanced_manufacturing", "traditional", "characteristic")
CATEGORY_SHARE = np.array([0.20, 0.25, 0.20, 0.20, 0.15])
# How strongly each category seeks attractive (rich) regions, and its macro-region orientation.
CATEGORY_PULL = np.array([1.0, 0.8, 0.5, -0.2, -0.5])
CATEGORY_MACRO = np.array(
    [[0.3, 0.0, -0.2, -0.1], [0.2, 0.1, 0.0, -0.1], [0.1, 0.1, 0.0, 0.2], [-0.1, 0.2, 0.2, 0.3], [-0.3, 0.1, 0.4, 0.1]]
)

RESOURCES = [
    (
        "land",
        "Construction land for industry inside the urban development boundary",
        "km2",
        "urban_development_boundary",
    ),
    ("water", "Water use under the total-use cap", "10^4 m3", "water_total_use_control"),
    ("energy", "Energy consumption", "10^4 tce", "energy_consumption_control"),
    ("carbon", "CO2 emissions", "10^4 t CO2", "carbon_peaking"),
    (
        "environment",
        "Environmental capacity (major pollutant allowance)",
        "t pollutant",
        "environmental_quality_bottom_line",
    ),
]
# Base intensity per 100 million yuan by category (rows) and resource (land, water, energy, carbon, environment).
INTENSITY = np.array(
    [
        [0.03, 6.0, 0.20, 0.40, 2.0],
        [0.05, 10.0, 0.35, 0.70, 3.0],
        [0.06, 8.0, 0.30, 0.60, 3.0],
        [0.12, 30.0, 2.00, 4.00, 15.0],
        [0.25, 60.0, 0.50, 1.00, 6.0],
    ]
)
# Capacity is spread over regions by a common size, population^0.7 × area^0.3, tilted per resource by
# population^p × area^q × GDP^g (land and environment towards area, energy and carbon towards GDP).
# The tilts stay small: a region can only use its ceilings together, so weights that differ much
# between resources would strand capacity (the binding resource differs region by region).
CAPACITY_SIZE = np.array([0.7, 0.3, 0.0])
CAPACITY_TILT = np.array([[0.0, 0.15, 0.0], [0.1, 0.0, 0.0], [0.0, 0.0, 0.1], [0.0, 0.0, 0.05], [0.0, 0.1, 0.0]])
CAPACITY_SCARCITY = 0.5  # attractive regions get less of the spare capacity: their ceilings bind first
CAPACITY_RATIO = (1.5, 2.0)  # national capacity / need, per resource
HOSTABLE = (0.4, 0.8)  # share of regions that can host a cluster
MAX_SITES_SHARE = (0.15, 0.30)
CRITICAL_SHARE = 0.3
# The reference layout, which the ceilings are sized to fit, meets a baseline-like scenario with margin:
CONCENTRATION_REF = 0.3  # largest regional share of a critical cluster (baseline cap 0.35)
HINTERLAND_REF = 0.4  # share of a critical cluster's sites in the hinterland (baseline 0.3 of output)
HINTERLAND_OUTPUT_REF = 0.33  # share of a critical cluster's reference output in the hinterland (baseline 0.3)
LOST_REF = 0.38  # largest share of a critical cluster that one disruption may take (baseline 0.4)
EXISTING_REF = 1.8  # existing output ≤ 1.8 × reference output, so keeping half of it fits
REFERENCE_HEADROOM = (1.01, 1.1)  # each ceiling holds the reference layout's use × this, plus a share of the slack


def default_disruptions(regions: int) -> int:
    """max(4, regions // 60), capped at 50."""
    return min(50, max(4, regions // 60))


def strategy_areas(regions: int) -> int:
    """min(6, 3 + regions // 100)."""
    return min(6, 3 + regions // 100)


def _sig(values: np.ndarray, digits: int = 4) -> np.ndarray:
    """Round to `digits` significant digits so that the CSV text is short and exact."""
    v = np.asarray(values, dtype=float)
    out = np.zeros_like(v)
    nz = v != 0
    exponent = np.floor(np.log10(np.abs(v[nz]))).astype(int)
    decimals = digits - 1 - exponent
    pos = decimals >= 0
    scaled = v[nz]
    result = np.empty_like(scaled)
    p = 10.0 ** decimals[pos]
    result[pos] = np.round(scaled[pos] * p) / p
    q = 10.0 ** (-decimals[~pos])
    result[~pos] = np.round(scaled[~pos] / q) * q
    out[nz] = result
    return out


def _split(total: int, shares: np.ndarray, minimum: int = 1) -> np.ndarray:
    """Integer counts close to total × shares, each at least `minimum` where possible, summing to total."""
    counts = np.floor(total * shares).astype(int)
    if total >= minimum * len(shares):
        counts = np.maximum(counts, minimum)
    while counts.sum() > total:
        counts[np.argmax(counts)] -= 1
    remainder = total * shares - counts
    while counts.sum() < total:
        j = int(np.argmax(remainder))
        counts[j] += 1
        remainder[j] = -np.inf
    return counts


def _nearest(lon: np.ndarray, lat: np.ndarray, points: np.ndarray, sizes: np.ndarray) -> list[np.ndarray]:
    """For each point (lon, lat), the indices of the `size` nearest regions, sorted by index."""
    scale = np.cos(np.radians(points[:, 1]))[:, None]
    dist = ((lon[None, :] - points[:, 0:1]) * scale) ** 2 + (lat[None, :] - points[:, 1:2]) ** 2
    order = np.argsort(dist, axis=1, kind="stable")
    return [np.sort(order[n, :size]) for n, size in enumerate(sizes)]


def _top(keys: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """(rows, R) mask of the `counts[row]` largest finite keys of each row."""
    order = np.argsort(-keys, axis=1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.broadcast_to(np.arange(keys.shape[1]), keys.shape), axis=1)
    return (rank < np.asarray(counts)[:, None]) & np.isfinite(keys)


def _reference_sites(
    rng: np.random.Generator,
    score: np.ndarray,
    host: np.ndarray,
    n_ref: np.ndarray,
    n_hint: np.ndarray,
    hinterland: np.ndarray,
) -> np.ndarray:
    """Draw each row's `n_ref` sites with probability ∝ score, `n_hint` of them in the hinterland."""
    keys = np.where(host, np.log(rng.uniform(1e-12, 1.0, host.shape)) / np.where(host, score, 1.0), -np.inf)
    chosen = _top(np.where(hinterland[None, :], keys, -np.inf), np.minimum(n_hint, n_ref))
    rest = n_ref - chosen.sum(1)
    chosen |= _top(np.where(chosen, -np.inf, keys), rest)
    return chosen


def _spread(rng: np.random.Generator, sites: np.ndarray, target: np.ndarray, critical: np.ndarray) -> np.ndarray:
    """Output of the reference layout: the target spread almost evenly over the sites."""
    weight = np.where(sites, rng.uniform(0.8, 1.2, sites.shape), 0.0)
    share = weight / weight.sum(1, keepdims=True)
    cap = np.where(critical, CONCENTRATION_REF, 1.0)[:, None]
    for _ in range(10):  # clip shares above the concentration cap, spread the excess over the rest
        over = np.maximum(share - cap, 0.0)
        if not over.any():
            break
        share = np.minimum(share, cap)
        room = np.where(sites & (share < cap), cap - share, 0.0)
        share += over.sum(1, keepdims=True) * room / np.maximum(room.sum(1, keepdims=True), 1e-300)
    return share * target[:, None]


def _standardise(v: np.ndarray) -> np.ndarray:
    sd = v.std()
    return (v - v.mean()) / (sd if sd > 0 else 1.0)


@dataclass
class _Regions:
    """Drawn regions: macro-region index, location, size, and how attractive each is to rich clusters."""

    macro: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    population: np.ndarray
    gdp: np.ndarray
    area: np.ndarray
    attract: np.ndarray

    @property
    def hinterland(self) -> np.ndarray:
        return (self.macro == 1) | (self.macro == 2)


@dataclass
class _Clusters:
    """Drawn clusters: category index, critical flag, target output."""

    category: np.ndarray
    critical: np.ndarray
    target: np.ndarray


@dataclass
class _Sites:
    """Where each cluster can be hosted, how well, and how many sites it and the reference layout use."""

    latent: np.ndarray
    host: np.ndarray
    score: np.ndarray
    max_sites: np.ndarray
    n_ref: np.ndarray


def _draw_regions(rng: np.random.Generator, R: int) -> _Regions:
    """Macro-region, location, population, GDP and area of every region."""
    per_macro = _split(R, MACRO_SHARE)
    macro = np.repeat(np.arange(4), per_macro)
    lon = np.empty(R)
    lat = np.empty(R)
    for m, name in enumerate(MACRO_REGIONS):
        members = np.flatnonzero(macro == m)
        centres = np.array(CENTRES[name])
        pick = rng.integers(0, len(centres), size=len(members))
        lon[members] = centres[pick, 0] + rng.normal(0, SPREAD[name], len(members))
        lat[members] = centres[pick, 1] + rng.normal(0, SPREAD[name] * 0.7, len(members))
    lon = np.clip(lon, BBOX[0], BBOX[1])
    lat = np.clip(lat, BBOX[2], BBOX[3])
    pop_w = MACRO_POP[macro] * rng.lognormal(0, 0.6, R)
    gdp_pc = MACRO_GDP_PC[macro] * rng.lognormal(0, 0.3, R)
    area_w = MACRO_AREA[macro] * rng.lognormal(0, 0.7, R)
    population = NATIONAL["population"] * pop_w / pop_w.sum()
    gdp = NATIONAL["gdp"] * pop_w * gdp_pc / (pop_w * gdp_pc).sum()
    area = NATIONAL["area_km2"] * area_w / area_w.sum()
    attract = 0.6 * _standardise(np.log(gdp / population)) + 0.4 * _standardise(np.log(gdp)) + MACRO_ATTRACT[macro]
    return _Regions(macro, lon, lat, population, gdp, area, attract)


def _draw_strategy_areas(rng: np.random.Generator, regions: _Regions) -> list[str]:
    """Each region's ";"-joined strategy areas: 3–6 areas, each the regions nearest an anchor."""
    R = len(regions.macro)
    n_strat = strategy_areas(R)
    anchors = np.array(ANCHORS[:n_strat])
    strat_size = np.maximum(2, np.round(R * rng.uniform(0.06, 0.15, n_strat))).astype(int)
    strat_members = _nearest(regions.lon, regions.lat, anchors, strat_size)
    membership = np.zeros((n_strat, R), bool)
    for g, members in enumerate(strat_members):
        membership[g, members] = True
    strat_ids = [f"strategy_{g + 1}" for g in range(n_strat)]
    return [";".join(s for s, on in zip(strat_ids, col) if on) for col in membership.T]


def _draw_clusters(rng: np.random.Generator, I: int) -> _Clusters:
    """Category, critical flag and target of every cluster."""
    category = np.repeat(np.arange(len(CATEGORIES)), _split(I, CATEGORY_SHARE, minimum=1 if I >= 5 else 0))
    n_crit = max(1, int(round(CRITICAL_SHARE * I)))
    critical = np.zeros(I, bool)
    critical[rng.choice(I, size=n_crit, replace=False)] = True
    target = np.clip(np.round(rng.lognormal(np.log(5000), 0.8, I), -1), 300, 20000)
    return _Clusters(category, critical, target)


def _draw_sites(rng: np.random.Generator, regions: _Regions, clusters: _Clusters) -> _Sites:
    """Suitability (where each cluster can be hosted, and how productive it is), max_sites, and how
    many sites the reference layout uses; critical clusters get enough hostable hinterland regions."""
    I, R = len(clusters.target), len(regions.macro)
    category, critical, macro, hinterland = clusters.category, clusters.critical, regions.macro, regions.hinterland
    pull = CATEGORY_PULL[category] + rng.normal(0, 0.2, I)
    macro_pref = CATEGORY_MACRO[category] + rng.normal(0, 0.15, (I, 4))
    latent = pull[:, None] * regions.attract[None, :] + macro_pref[:, macro] + rng.normal(0, 0.5, (I, R))
    n_host = np.clip(np.round(rng.uniform(*HOSTABLE, I) * R), 1, R).astype(int)
    host = _top(latent + rng.normal(0, 0.5, (I, R)), n_host)

    max_sites = np.round(R * rng.uniform(*MAX_SITES_SHARE, I)).astype(int)
    max_sites = np.maximum(max_sites, np.where(critical, 6, 3))
    n_ref = np.round(max_sites * rng.uniform(0.5, 0.9, I)).astype(int)
    n_ref = np.maximum(n_ref, np.where(critical, 6, 3))
    # A critical cluster must be hostable in enough hinterland regions to keep HINTERLAND_REF of the reference there.
    n_hint = np.where(critical, np.ceil(HINTERLAND_REF * n_ref / 0.7).astype(int), 0)
    short = n_hint - (host & hinterland).sum(1)
    if (short > 0).any():
        extra = _top(np.where(hinterland & ~host, latent, -np.inf), np.maximum(short, 0))
        host |= extra
    n_host = host.sum(1)
    n_ref = np.minimum(n_ref, n_host)
    max_sites = np.clip(max_sites, n_ref, n_host)
    raw_score = np.exp(0.35 * latent)
    mean_hosted = (raw_score * host).sum(1) / host.sum(1)
    score = np.where(host, np.clip(np.round(raw_score / mean_hosted[:, None], 2), 0.1, 3.0), 0.0)
    return _Sites(latent, host, score, max_sites, n_ref)


def _draw_disruptions(rng: np.random.Generator, regions: _Regions, n_dis: int) -> list[np.ndarray]:
    """The regions each disruption loses: spatially clustered, the nearest neighbours of a seed region."""
    if not n_dis:
        return []
    R = len(regions.macro)
    lon, lat, gdp = regions.lon, regions.lat, regions.gdp
    seeds = rng.choice(R, size=n_dis, replace=n_dis > R, p=gdp / gdp.sum())
    lost_size = np.clip(np.round(R * rng.uniform(0.05, 0.15, n_dis)), 2, max(2, R // 3)).astype(int)
    return _nearest(lon, lat, np.stack([lon[seeds], lat[seeds]], axis=1), lost_size)


def _draw_reference(
    rng: np.random.Generator, regions: _Regions, clusters: _Clusters, sites: _Sites, lost_mask: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(sites, output) of a reference layout that meets every goal of a baseline-like scenario.

    Sites are drawn with probability ∝ score (Efraimidis–Spirakis keys); critical clusters take
    enough of them in the hinterland. Output is spread almost evenly over the sites. Ceilings are
    then sized so that this layout fits, which makes every synthetic dataset feasible.
    """
    critical, target, hinterland = clusters.critical, clusters.target, regions.hinterland
    score, host, n_ref = sites.score, sites.host, sites.n_ref
    I, n_dis = len(target), len(lost_mask)
    hint_sites = np.where(critical, np.ceil(HINTERLAND_REF * n_ref).astype(int), 0)
    reference = _reference_sites(rng, score, host, n_ref, hint_sites, hinterland)
    x0 = _spread(rng, reference, target, critical)
    for _ in range(100):  # redraw critical clusters that a disruption would hit too hard or that lack hinterland
        hit = (x0 @ lost_mask.T > LOST_REF * target[:, None]).any(1) if n_dis else np.zeros(I, bool)
        thin = x0 @ hinterland < HINTERLAND_OUTPUT_REF * target
        bad = critical & (hit | thin)
        if not bad.any():
            break
        redraw = _reference_sites(rng, score[bad], host[bad], n_ref[bad], hint_sites[bad], hinterland)
        reference[bad] = redraw
        x0[bad] = _spread(rng, redraw, target[bad], critical[bad])
    else:
        raise RuntimeError(
            "could not draw a reference layout that survives every disruption; use fewer or smaller disruptions"
        )
    return reference, x0


def _draw_existing(
    rng: np.random.Generator, clusters: _Clusters, sites: _Sites, reference: np.ndarray, x0: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(incumbent cells, existing output): a few of the reference sites, the best ones."""
    I, R = reference.shape
    target = clusters.target
    n_exist = np.clip(np.round(np.sqrt(R) * rng.uniform(0.4, 0.8, I)), 1, sites.n_ref - 1).astype(int)
    incumbent = _top(np.where(reference, sites.latent, -np.inf), n_exist) & reference
    base = np.asarray(rng.uniform(0.4, 0.7, I))[:, None] * target[:, None]
    share = np.where(incumbent, sites.score * rng.uniform(0.5, 1.5, (I, R)), 0.0)
    existing = np.minimum(base * share / share.sum(1, keepdims=True), EXISTING_REF * x0)
    existing = np.where(incumbent, _sig(existing), 0.0)
    incumbent &= existing > 0
    return incumbent, existing


def _draw_resources(
    rng: np.random.Generator, regions: _Regions, clusters: _Clusters, x0: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(I, K) intensity and (R, K) capacity: the reference layout's use with headroom, plus spare capacity."""
    I, R, K = len(clusters.target), len(regions.macro), len(RESOURCES)
    intensity = _sig(INTENSITY[clusters.category] * rng.lognormal(0, 0.35, (I, K)))
    need = (intensity * clusters.target[:, None]).sum(0)
    used = x0.T @ intensity  # (R, K) by the reference layout
    ratio = rng.uniform(*CAPACITY_RATIO, K)
    basis = np.log(np.stack([regions.population, regions.area, regions.gdp], axis=1))  # (R, 3)
    tilt = basis @ (CAPACITY_SIZE[None, :] + CAPACITY_TILT).T - CAPACITY_SCARCITY * regions.attract[:, None]
    weight = np.exp(tilt) * rng.lognormal(0, 0.15, (R, K))
    slack = (ratio - REFERENCE_HEADROOM[1]) * need * weight / weight.sum(0)
    capacity = _sig(used * rng.uniform(*REFERENCE_HEADROOM, (R, K)) + slack)
    return intensity, capacity


def _draw_scale_and_cost(
    rng: np.random.Generator, reference: np.ndarray, x0: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Minimum scale below the smallest reference site's output, and a fixed cost near it."""
    I = len(reference)
    smallest = np.where(reference, x0, np.inf).min(axis=1)
    min_scale = _sig(rng.uniform(0.2, 0.5, I) * smallest, 3)
    fixed_cost = _sig(min_scale * rng.uniform(0.6, 1.4, I), 3)
    return min_scale, fixed_cost


# --- the resilient network (layout synth --chains) ---------------------------------------------------

NODES = 31  # default number of transport nodes with --chains (about the provinces)
NEIGHBOURS = 3  # corridors from each node to its nearest nodes, plus a spanning tree
ROUTE_FACTOR = (1.15, 1.45)  # corridor km per great-circle km between node centres
EARTH_RADIUS_KM = 6371.0
CATEGORY_TIER = np.array([1.6, 1.2, 0.8, 0.0, 0.3])  # how far downstream a category sits (traditional first)
UPSTREAM_SHARE = 0.2  # share of clusters that supply others
CHAIN_LINKS = 0.55  # chain links per cluster
CHAIN_USE = (0.2, 0.7)  # Σ_j q_ij·T_j / T_i of an upstream cluster (at most 0.8 by construction)
PER_UNIT_MAX = 0.5  # no link uses more than half a unit of input per unit of output
TRANSPORT_COST = np.array([0.01, 0.015, 0.03, 0.06, 0.04])  # t_i by category, per unit moved 1,000 km
CORRIDOR_CAPACITY_SHARE = 0.33
CORRIDOR_HEADROOM = (1.5, 3.0)  # a corridor's capacity: the reference layout's load on it (at least a floor) × this
CONCENTRATION_CAP = 0.35  # the baseline-like scenario's cap, which bounds a backup cell with x
SURVIVAL_REF = 0.6  # ρ of the baseline-like scenario, for which the reference recourse is built
BACKUP_SHARE_REF = 0.1  # each critical cluster's reference standby capacity (backup.share up to this)


@dataclass
class _Network:
    """Drawn network: node of every region, corridors, chains, transport cost, and the reference
    standby capacity that, with the reference layout, meets chains, backup and recourse."""

    node: np.ndarray  # (R,) node index, numbered in order of first appearance
    corridor_a: np.ndarray  # (E,) node index, corridor_a < corridor_b
    corridor_b: np.ndarray
    distance: np.ndarray  # (E,) km
    capacity: np.ndarray  # (E,) NaN: no limit
    resource_capacity: np.ndarray  # (R, K) capacity.csv, ceilings raised where the reference backup needs it
    per_unit: np.ndarray  # (I, I) q_ij
    transport: np.ndarray  # (I,) t_i
    backup: np.ndarray  # (I, R) reference standby capacity b0


def _sig_up(values: np.ndarray, digits: int = 3) -> np.ndarray:
    """Round up to `digits` significant digits (a capacity rounded this way still holds what it was sized for)."""
    v = np.asarray(values, dtype=float)
    exponent = np.floor(np.log10(np.where(v > 0, v, 1.0)))
    scale = 10.0 ** (digits - 1 - exponent)
    return np.where(v > 0, np.ceil(v * scale - 1e-9) / scale, 0.0)


def _draw_nodes(rng: np.random.Generator, regions: _Regions, n_nodes: int) -> np.ndarray:
    """(R,) node of every region: k-means on the map (k-means++ seeds, Lloyd's iterations), so that a
    node is a spatial group of regions; nodes are numbered in order of their first region."""
    R = len(regions.lon)
    n_nodes = min(n_nodes, R)
    points = np.stack([regions.lon * np.cos(np.radians(regions.lat)), regions.lat], axis=1)
    centres = np.empty((n_nodes, 2))
    centres[0] = points[rng.integers(R)]
    nearest = ((points - centres[0]) ** 2).sum(1)
    for k in range(1, n_nodes):
        total = nearest.sum()
        centres[k] = points[rng.choice(R, p=nearest / total) if total > 0 else rng.integers(R)]
        nearest = np.minimum(nearest, ((points - centres[k]) ** 2).sum(1))
    for _ in range(50):
        assign = ((points[:, None, :] - centres[None, :, :]) ** 2).sum(2).argmin(1)
        counts = np.bincount(assign, minlength=n_nodes)
        sums = np.zeros((n_nodes, 2))
        np.add.at(sums, assign, points)
        moved = np.where(counts[:, None] > 0, sums / np.maximum(counts, 1)[:, None], centres)
        if np.allclose(moved, centres, rtol=0, atol=1e-12):
            break
        centres = moved
    used, first = np.unique(assign, return_index=True)
    number = np.full(n_nodes, -1)
    number[used[np.argsort(first, kind="stable")]] = np.arange(len(used))
    return number[assign]


def _great_circle_km(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """(N, N) great-circle distances between points, km."""
    phi, lam = np.radians(lat), np.radians(lon)
    h = (
        np.sin((phi[:, None] - phi[None, :]) / 2) ** 2
        + np.cos(phi[:, None]) * np.cos(phi[None, :]) * np.sin((lam[:, None] - lam[None, :]) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def _draw_corridors(
    rng: np.random.Generator, regions: _Regions, node: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(node_a, node_b, distance_km) of the corridors: each node to its NEIGHBOURS nearest nodes, plus a
    minimum spanning tree so that the graph is connected; distance = great circle × a route factor."""
    N = int(node.max()) + 1
    count = np.bincount(node, minlength=N)
    lon = np.bincount(node, regions.lon, N) / count
    lat = np.bincount(node, regions.lat, N) / count
    km = _great_circle_km(lon, lat)
    pairs: set[tuple[int, int]] = set()
    if N > 1:
        apart = km + np.diag(np.full(N, np.inf))
        for a, row in enumerate(np.argsort(apart, axis=1, kind="stable")[:, : min(NEIGHBOURS, N - 1)]):
            pairs.update((min(a, int(b)), max(a, int(b))) for b in row)
        in_tree = np.zeros(N, bool)  # Prim's algorithm over the N nodes
        in_tree[0] = True
        best, parent = km[0].copy(), np.zeros(N, int)
        for _ in range(N - 1):
            b = int(np.argmin(np.where(in_tree, np.inf, best)))
            pairs.add((min(b, int(parent[b])), max(b, int(parent[b]))))
            in_tree[b] = True
            closer = ~in_tree & (km[b] < best)
            best[closer], parent[closer] = km[b][closer], b
    ends = np.array(sorted(pairs), dtype=int).reshape(-1, 2)
    factor = rng.uniform(*ROUTE_FACTOR, len(ends))
    distance = np.maximum(1.0, np.round(km[ends[:, 0], ends[:, 1]] * factor))
    return ends[:, 0], ends[:, 1], distance


def _draw_chains(rng: np.random.Generator, clusters: _Clusters) -> np.ndarray:
    """(I, I) q_ij: an acyclic set of supply links. Clusters are ordered by a drawn tier (materials
    first, future industries last); the UPSTREAM_SHARE most upstream supply clusters later in that
    order, preferring critical ones; each upstream i's links use CHAIN_USE of its target, so that
    Σ_j q_ij·T_j ≤ 0.8·T_i."""
    I, target = len(clusters.target), clusters.target
    per_unit = np.zeros((I, I))
    if I < 2:
        return per_unit
    tier = CATEGORY_TIER[clusters.category] + rng.uniform(0, 1.2, I)
    n_up = int(np.clip(round(UPSTREAM_SHARE * I), 1, I - 1))
    upstream = np.argsort(tier, kind="stable")[:n_up]
    links = _split(max(n_up, int(round(CHAIN_LINKS * I))), rng.dirichlet(np.ones(n_up)))
    for i, n_links in zip(upstream, links):
        candidates = np.flatnonzero(tier > tier[i])
        k = min(int(n_links), len(candidates))
        if k == 0:
            continue
        weight = 1.0 + 2.0 * clusters.critical[candidates]
        chosen = np.sort(rng.choice(candidates, size=k, replace=False, p=weight / weight.sum()))
        share = rng.uniform(*CHAIN_USE)
        w = rng.uniform(0.5, 1.5, k)
        q = share * target[i] * w / (w * target[chosen]).sum()
        per_unit[i, chosen] = _sig(np.minimum(q, PER_UNIT_MAX), 3)
    return per_unit


def _draw_transport(rng: np.random.Generator, clusters: _Clusters) -> np.ndarray:
    """(I,) t_i: objective units per unit of output moved 1,000 km, heavier goods costing more."""
    return _sig(TRANSPORT_COST[clusters.category] * rng.lognormal(0, 0.4, len(clusters.target)), 3)


def _reference_backup(
    regions: _Regions,
    clusters: _Clusters,
    reference: np.ndarray,
    x0: np.ndarray,
    intensity: np.ndarray,
    capacity: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """((I, R) standby capacity b0, (R, K) capacity) of the reference layout: BACKUP_SHARE_REF of each
    critical target on its hinterland reference sites, within the room that the link bound (concentration
    cap 0.35, every ceiling for the cluster alone) and the regions' land ceilings leave. Where that room
    falls short, the rest goes to the hinterland sites in proportion to their room under the concentration
    cap, and the ceilings it needs are raised, so that backup.share up to BACKUP_SHARE_REF fits by
    construction (the sites' room under the cap is at least 0.05·T_i each, 0.15·T_i in all)."""
    capacity = capacity.copy()
    land = [r[0] for r in RESOURCES].index("land")
    on = clusters.critical[:, None] & reference & regions.hinterland[None, :]
    with np.errstate(divide="ignore"):
        alone = np.where(intensity[:, None, :] > 0, capacity[None, :, :] / intensity[:, None, :], np.inf).min(2)
    cap = CONCENTRATION_CAP * clusters.target[:, None]
    room = np.where(on, np.maximum(np.minimum(cap, alone) - x0, 0.0), 0.0) * (1 - 1e-6)
    land_use = x0.T @ intensity[:, land]
    land_room = np.maximum(capacity[:, land] - land_use, 0.0)  # (R,)
    claimed = (room * intensity[:, land][:, None]).sum(0)  # land the room would take
    fit = np.where(claimed > land_room, land_room / np.where(claimed > 0, claimed, 1.0), 1.0)
    room = room * fit[None, :] * (1 - 1e-6)
    need = BACKUP_SHARE_REF * clusters.target * clusters.critical
    held = room.sum(1)
    backup = room * np.where(held > 0, np.minimum(1.0, need / np.where(held > 0, held, 1.0)), 0.0)[:, None]
    short = need - backup.sum(1)
    if (short > 1e-9 * clusters.target).any():
        spare = np.where(on, np.maximum(cap - x0 - backup, 0.0), 0.0) * (1 - 1e-6)
        share = np.minimum(1.0, np.maximum(short, 0.0) / np.maximum(spare.sum(1), 1e-300))
        backup += spare * share[:, None]
        # each cell's link bound (every ceiling for the cluster alone) and each land ceiling must hold x + b
        held_use = np.where((backup > 0)[:, :, None], intensity[:, None, :] * (x0 + backup)[:, :, None], 0.0).max(0)
        capacity = np.maximum(capacity, _sig_up(held_use * (1 + 1e-6), 4))
        capacity[:, land] = np.maximum(
            capacity[:, land], _sig_up((land_use + backup.T @ intensity[:, land]) * (1 + 1e-6), 4)
        )
    return backup, capacity


def _incidence(N: int, arc_from: np.ndarray, arc_to: np.ndarray) -> scipy.sparse.csr_matrix:
    """(N, A): +1 where arc a leaves node n, −1 where it enters."""
    A = len(arc_from)
    return scipy.sparse.csr_matrix(
        (np.r_[np.ones(A), -np.ones(A)], (np.r_[arc_from, arc_to], np.r_[np.arange(A), np.arange(A)])), shape=(N, A)
    )


def _reference_routing(
    node: np.ndarray,
    arc_from: np.ndarray,
    arc_to: np.ndarray,
    distance: np.ndarray,
    per_unit: np.ndarray,
    x0: np.ndarray,
) -> np.ndarray:
    """(A,) the load of the reference layout's chain flows on every arc: the cheapest routing (min Σ dist·f)
    that meets chain_supply at the reference output, without corridor capacities."""
    from scipy.optimize import linprog

    N, A = int(node.max()) + 1, len(arc_from)
    upstream = np.flatnonzero((per_unit > 0).any(1))
    if not len(upstream) or not A:
        return np.zeros(A)
    at_node = scipy.sparse.csr_matrix((np.ones(len(node)), (node, np.arange(len(node)))), shape=(N, len(node)))
    made = (at_node @ x0.T).T  # (I, N)
    surplus = made[upstream] - per_unit[upstream] @ made  # (U, N) ≥ 0 in total
    B = _incidence(N, arc_from, arc_to)
    lp = linprog(
        np.tile(distance, len(upstream)),
        A_ub=scipy.sparse.kron(scipy.sparse.eye(len(upstream)), B),
        b_ub=surplus.ravel(),
        bounds=(0, None),
        method="highs",
    )
    if lp.status != 0:
        raise RuntimeError(f"could not route the reference chain flows ({lp.message})")
    return lp.x.reshape(len(upstream), A).sum(0)


def _reference_recourse(
    node: np.ndarray,
    arc_from: np.ndarray,
    arc_to: np.ndarray,
    distance: np.ndarray,
    per_unit: np.ndarray,
    clusters: _Clusters,
    lost_mask: np.ndarray,
    output: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """(failed disruptions (S,) bool, (A,) largest recourse load on every arc) of the reference layout with its
    standby capacity (`output` = x0 + b0): for every disruption a cheapest recourse (docs/model.md#recourse,
    ρ = SURVIVAL_REF, no corridor capacities), found by a small LP."""
    from scipy.optimize import linprog

    N, A, S = int(node.max()) + 1, len(arc_from), len(lost_mask)
    critical = clusters.critical
    members = critical.copy()
    for _ in range(len(members)):
        members = members | (per_unit[:, members] > 0).any(1)
    m = np.flatnonzero(members)
    suppliers = np.flatnonzero(members & (per_unit > 0).any(1))
    M, G = len(m), len(suppliers)
    q = per_unit[np.ix_(suppliers, m)]  # (G, M)
    supplier_at = np.searchsorted(m, suppliers)
    B = _incidence(N, arc_from, arc_to)
    at_node = scipy.sparse.csr_matrix((np.ones(len(node)), (node, np.arange(len(node)))), shape=(N, len(node)))
    region_count = np.bincount(node, minlength=N)
    eye_n = scipy.sparse.eye(N)
    # rows: survival (critical members), supply (supplier, node); columns: p (member, node), g (supplier, arc)
    survival = scipy.sparse.kron(scipy.sparse.csr_matrix(-np.eye(M)[critical[m]]), np.ones((1, N)))
    produce = scipy.sparse.csr_matrix(
        (-np.ones(G), (np.arange(G), supplier_at)), shape=(G, M)
    ) + scipy.sparse.csr_matrix(q)
    supply = scipy.sparse.hstack([scipy.sparse.kron(produce, eye_n), scipy.sparse.kron(scipy.sparse.eye(G), B)])
    A_ub = scipy.sparse.vstack(
        [scipy.sparse.hstack([survival, scipy.sparse.csr_matrix((survival.shape[0], G * A))]), supply]
    ).tocsr()
    b_ub = np.r_[-SURVIVAL_REF * clusters.target[m][critical[m]], np.zeros(G * N)]
    cost = np.r_[np.zeros(M * N), np.tile(distance, G)]
    failed, load = np.zeros(S, bool), np.zeros(A)
    for s in range(S):
        surviving = (at_node @ np.where(lost_mask[s][None, :], 0.0, output[m]).T).T  # (M, N)
        node_lost = np.bincount(node, weights=lost_mask[s].astype(float), minlength=N) >= region_count
        cut = node_lost[arc_from] | node_lost[arc_to]
        upper = np.r_[surviving.ravel(), np.tile(np.where(cut, 0.0, np.inf), G)]
        lp = linprog(cost, A_ub=A_ub, b_ub=b_ub, bounds=np.stack([np.zeros(len(upper)), upper], 1), method="highs")
        if lp.status != 0:
            failed[s] = True
            continue
        load = np.maximum(load, lp.x[M * N :].reshape(G, A).sum(0))
    return failed, load


def _draw_network(
    rng: np.random.Generator,
    regions: _Regions,
    clusters: _Clusters,
    reference: np.ndarray,
    x0: np.ndarray,
    intensity: np.ndarray,
    capacity: np.ndarray,
    lost_mask: np.ndarray,
    n_nodes: int,
) -> _Network:
    """Nodes, corridors, chains and transport costs, drawn after everything else (so that the other
    files are the same with and without the network), and corridor capacities that the reference
    layout's flows fit: its chain flows and, with its standby capacity, its recourse under every
    disruption. A chain link that the reference cannot keep supplied under some disruption is dropped
    (the most recently drawn first), so that the baseline-like scenario with chains, backup and
    recourse stays feasible."""
    node = _draw_nodes(rng, regions, n_nodes)
    corridor_a, corridor_b, distance = _draw_corridors(rng, regions, node)
    per_unit = _draw_chains(rng, clusters)
    transport = _draw_transport(rng, clusters)
    backup, capacity = _reference_backup(regions, clusters, reference, x0, intensity, capacity)
    arc_from, arc_to = (
        np.column_stack([corridor_a, corridor_b]).ravel(),
        np.column_stack([corridor_b, corridor_a]).ravel(),
    )
    arc_km = np.repeat(distance, 2)
    links = list(zip(*np.nonzero(per_unit)))
    while True:
        failed, recourse_load = _reference_recourse(
            node, arc_from, arc_to, arc_km, per_unit, clusters, lost_mask, x0 + backup
        )
        if not failed.any() or not links:
            break
        i, j = links.pop()
        per_unit[i, j] = 0.0
    if failed.any():
        raise RuntimeError(
            "the reference layout cannot meet recourse under every disruption even without chains; "
            "use fewer or smaller disruptions"
        )
    load = np.maximum(_reference_routing(node, arc_from, arc_to, arc_km, per_unit, x0), recourse_load)
    load = load.reshape(-1, 2).max(1)  # per corridor, both directions
    limited = rng.uniform(0, 1, len(distance)) < CORRIDOR_CAPACITY_SHARE
    headroom = rng.uniform(*CORRIDOR_HEADROOM, len(distance))
    floor = 0.05 * float(clusters.target[(per_unit > 0).any(1)].mean()) if (per_unit > 0).any() else 1.0
    corridor_capacity = np.where(limited, _sig_up(np.maximum(load, floor) * headroom, 3), np.nan)
    return _Network(node, corridor_a, corridor_b, distance, corridor_capacity, capacity, per_unit, transport, backup)


def generate(
    regions: int,
    clusters: int,
    disruptions: int | None = None,
    seed: int = 0,
    chains: bool = False,
    nodes: int | None = None,
) -> dict[str, pd.DataFrame]:
    """The tables of a synthetic dataset (file name -> DataFrame), without writing them.

    Extra tables are not written: `_meta` (the disruption, strategy-area and node counts),
    `_reference` (cluster, region, output): the reference layout that the ceilings were sized to
    fit, a feasible point of a baseline-like scenario, and with `chains` `_backup` (cluster, region,
    standby): its standby capacity. Each `_draw_*` step takes its numbers from the one generator, in
    the order they are called here; the network (`chains`: chains.csv, corridors.csv, `nodes` nodes,
    default min(NODES, regions)) is drawn last, so the other files are the same with and without it.
    """
    if regions < 4:
        raise InputError(None, "regions", f"{regions}: a synthetic dataset needs at least 4 (one per macro-region)")
    if clusters < 1:
        raise InputError(None, "clusters", f"{clusters}: a synthetic dataset needs at least 1")
    n_dis = default_disruptions(regions) if disruptions is None else int(disruptions)
    if n_dis < 0:
        raise InputError(None, "disruptions", f"{n_dis}: cannot be negative")
    if nodes is not None and not chains:
        raise InputError(None, "nodes", "only with chains (nodes group the regions for the network)")
    n_nodes = min(NODES, regions) if nodes is None else int(nodes)
    if chains and not 1 <= n_nodes <= regions:
        raise InputError(None, "nodes", f"{n_nodes}: between 1 and the number of regions ({regions})")
    rng = np.random.default_rng(seed)
    R, I = regions, clusters

    geo = _draw_regions(rng, R)
    strategies = _draw_strategy_areas(rng, geo)
    drawn = _draw_clusters(rng, I)
    sites = _draw_sites(rng, geo, drawn)
    lost = _draw_disruptions(rng, geo, n_dis)
    lost_mask = np.zeros((n_dis, R), bool)
    for d, members in enumerate(lost):
        lost_mask[d, members] = True
    reference, x0 = _draw_reference(rng, geo, drawn, sites, lost_mask)
    incumbent, existing = _draw_existing(rng, drawn, sites, reference, x0)
    intensity, capacity = _draw_resources(rng, geo, drawn, x0)
    min_scale, fixed_cost = _draw_scale_and_cost(rng, reference, x0)
    network = _draw_network(rng, geo, drawn, reference, x0, intensity, capacity, lost_mask, n_nodes) if chains else None
    return _tables(
        geo,
        strategies,
        drawn,
        sites,
        lost,
        reference,
        x0,
        incumbent,
        existing,
        intensity,
        capacity,
        min_scale,
        fixed_cost,
        network,
    )


def _tables(
    geo: _Regions,
    strategies: list[str],
    drawn: _Clusters,
    sites: _Sites,
    lost: list[np.ndarray],
    reference: np.ndarray,
    x0: np.ndarray,
    incumbent: np.ndarray,
    existing: np.ndarray,
    intensity: np.ndarray,
    capacity: np.ndarray,
    min_scale: np.ndarray,
    fixed_cost: np.ndarray,
    network: _Network | None = None,
) -> dict[str, pd.DataFrame]:
    """The drawn numbers as the dataset's tables, with ids `r0001`, `c001`, `disruption_01`, `n01`."""
    R, I, K, n_dis = len(geo.macro), len(drawn.target), len(RESOURCES), len(lost)
    n_strat = strategy_areas(R)
    width = max(4, len(str(R)))
    region_ids = np.array([f"r{n + 1:0{width}d}" for n in range(R)], dtype=object)
    cwidth = max(3, len(str(I)))
    cluster_ids = np.array([f"c{n + 1:0{cwidth}d}" for n in range(I)], dtype=object)
    resource_ids = np.array([r[0] for r in RESOURCES], dtype=object)
    dwidth = max(2, len(str(n_dis)))
    tables: dict[str, pd.DataFrame] = {}
    tables["regions.csv"] = pd.DataFrame(
        {
            "region": region_ids,
            "name": [f"Region {n + 1}" for n in range(R)],
            "name_zh": "",
            "macro_region": np.array(MACRO_REGIONS, dtype=object)[geo.macro],
            "hinterland": np.where(geo.hinterland, "true", "false"),
            "strategies": strategies,
            "population": np.round(geo.population, 1),
            "gdp": np.round(geo.gdp, 1),
            "area_km2": np.round(geo.area),
            "lon": np.round(geo.lon, 3),
            "lat": np.round(geo.lat, 3),
        }
    )
    tables["clusters.csv"] = pd.DataFrame(
        {
            "cluster": cluster_ids,
            "name": [f"Cluster {n + 1}" for n in range(I)],
            "category": np.array(CATEGORIES, dtype=object)[drawn.category],
            "critical": np.where(drawn.critical, "true", "false"),
            "target": drawn.target,
            "min_scale": min_scale,
            "max_sites": sites.max_sites,
            "fixed_cost": fixed_cost,
        }
    )
    tables["resources.csv"] = pd.DataFrame(RESOURCES, columns=["resource", "name", "unit", "line"])
    tables["intensity.csv"] = pd.DataFrame(
        {"cluster": np.repeat(cluster_ids, K), "resource": np.tile(resource_ids, I), "per_unit": intensity.ravel()}
    )
    tables["capacity.csv"] = pd.DataFrame(
        {"region": np.repeat(region_ids, K), "resource": np.tile(resource_ids, R), "available": capacity.ravel()}
    )
    ii, rr = np.nonzero(sites.host)
    tables["suitability.csv"] = pd.DataFrame(
        {"cluster": cluster_ids[ii], "region": region_ids[rr], "score": sites.score[ii, rr]}
    )
    ii, rr = np.nonzero(incumbent)
    tables["existing.csv"] = pd.DataFrame(
        {"cluster": cluster_ids[ii], "region": region_ids[rr], "output": existing[ii, rr]}
    )
    dis_ids = [f"disruption_{s + 1:0{dwidth}d}" for s in range(n_dis)]
    tables["disruptions.csv"] = pd.DataFrame(
        {
            "disruption": np.repeat(np.array(dis_ids, dtype=object), [len(m) for m in lost]).astype(object),
            "region": region_ids[np.concatenate(lost)] if lost else np.array([], dtype=object),
        },
        columns=["disruption", "region"],
    )
    tables["_meta"] = pd.DataFrame({"key": ["disruptions", "strategies"], "value": [n_dis, n_strat]})
    ii, rr = np.nonzero(reference)
    tables["_reference"] = pd.DataFrame({"cluster": cluster_ids[ii], "region": region_ids[rr], "output": x0[ii, rr]})
    if network is not None:
        _network_tables(tables, network, region_ids, cluster_ids, resource_ids)
    return tables


def _network_tables(
    tables: dict[str, pd.DataFrame],
    network: _Network,
    region_ids: np.ndarray,
    cluster_ids: np.ndarray,
    resource_ids: np.ndarray,
) -> None:
    """Add the network to the tables: a `node` column, `transport_cost`, chains.csv, corridors.csv, the
    land ceilings the reference backup needs, and `_backup`."""
    N = int(network.node.max()) + 1
    nwidth = max(2, len(str(N)))
    node_ids = np.array([f"n{n + 1:0{nwidth}d}" for n in range(N)], dtype=object)
    tables["regions.csv"]["node"] = node_ids[network.node]
    tables["clusters.csv"]["transport_cost"] = network.transport
    tables["capacity.csv"]["available"] = network.resource_capacity.ravel()
    ii, jj = np.nonzero(network.per_unit)
    tables["chains.csv"] = pd.DataFrame(
        {"upstream": cluster_ids[ii], "downstream": cluster_ids[jj], "per_unit": network.per_unit[ii, jj]}
    )
    tables["corridors.csv"] = pd.DataFrame(
        {
            "node_a": node_ids[network.corridor_a],
            "node_b": node_ids[network.corridor_b],
            "distance_km": network.distance.astype(int),
            "capacity": network.capacity,
        }
    )
    meta = tables["_meta"]
    tables["_meta"] = pd.concat(
        [meta, pd.DataFrame({"key": ["nodes", "chains", "corridors"], "value": [N, len(ii), len(network.distance)]})],
        ignore_index=True,
    )
    ii, rr = np.nonzero(network.backup > 0)
    tables["_backup"] = pd.DataFrame(
        {"cluster": cluster_ids[ii], "region": region_ids[rr], "standby": network.backup[ii, rr]}
    )


def _sources(regions: int, clusters: int, disruptions: int, strategies: int, seed: int) -> str:
    """SOURCES.md of a synthetic dataset without the network."""
    return f"""# Synthetic dataset — sources and methods

**Every figure in this folder is synthetic.** It was generated by `{GENERATOR}`
(`model.synth.synthesize`) for scale tests and benchmarks; it describes no real place.

| parameter | value |
|---|---|
| generator | {GENERATOR} |
| seed | {seed} |
| regions | {regions} |
| clusters | {clusters} |
| disruptions | {disruptions} |
| strategy areas | {strategies} |

The same generator, seed and parameters give byte-identical files:
`layout synth --regions {regions} --clusters {clusters} --seed {seed}` (or
`model.synth.synthesize({regions}, {clusters}, out, disruptions={disruptions}, seed={seed})`).

## regions.csv

| column | unit / values | year | source |
|---|---|---|---|
| region | id `r0001`, … | – | synthetic |
| name | `Region N` | – | synthetic |
| name_zh | empty | – | synthetic |
| macro_region | east / central / west / northeast, about 35 / 25 / 30 / 10 % of regions | – | synthetic |
| hinterland | true for central and west | – | synthetic (the default dataset's assumption) |
| strategies | `strategy_N`: the regions nearest one of {strategies} anchor points (6–15 % of regions each) | – | synthetic |
| population | 10,000 persons; lognormal weights scaled to a national total of 140,828 | target year | synthetic |
| gdp | 100 million yuan, current prices; population × lognormal GDP per head, higher in the east, scaled to 1,349,084 | target year | synthetic |
| area_km2 | km²; lognormal weights (larger in the west) scaled to 9,600,000 | – | synthetic |
| lon, lat | decimal degrees; normal scatter around real provincial capitals of the macro-region, clipped to China's bounding box | – | synthetic |

## clusters.csv

| column | unit / values | source |
|---|---|---|
| cluster, name | `c001` / `Cluster N` | synthetic |
| category | future / strategic_emerging / advanced_manufacturing / traditional / characteristic (20/25/20/20/15 %) | synthetic |
| critical | true for about 30 % of clusters | synthetic |
| target | 100 million yuan of value added, target year; lognormal, median 5,000, clipped to 300–20,000 | synthetic |
| min_scale | 100 million yuan; 20–50 % of the smallest site's output in the reference layout (see below) | synthetic |
| max_sites | integer; 15–30 % of regions, at least 6 for critical and 3 for other clusters, at most the hostable regions | synthetic |
| fixed_cost | objective units; min_scale × 0.6–1.4 | synthetic |

## resources.csv

The five ceilings of the default dataset (land, water, energy, carbon, environment), with its names, units and lines.

## intensity.csv

`per_unit`: resource use per 100 million yuan; a base per category (energy- and pollution-heavy for traditional,
land- and water-heavy for characteristic) times lognormal noise (σ 0.35). Synthetic.

## capacity.csv

`available`: national capacity = 1.5–2 × the need of all targets (per resource). Each region holds what a
*reference layout* uses there × 1.01–1.1, plus a share of the rest spread by population and area (tilted
towards area for land and environment, towards GDP for energy and carbon, and away from the attractive
regions) with lognormal noise. The reference layout meets a baseline-like scenario with margin: 50–90 % of
max_sites sites per cluster, drawn with probability ∝ score, output spread almost evenly; critical clusters at
most 30 % in one region, at least 40 % of their sites in the hinterland and at most 38 % of output inside any
disruption. So every synthetic dataset is feasible for concentration cap 0.35, hinterland share 0.3,
disruption survival 0.6, min_sites 3 and keep_existing 0.5. Suitability follows income instead, so the
optimum crowds into the attractive regions and their ceilings bind. Synthetic.

## suitability.csv

`score`: relative productivity (1 = the cluster's average over the regions that can host it), 2 decimals, in
[0.1, 3]; each cluster can be hosted in 40–80 % of regions, mostly those its category is drawn to (future and
strategic clusters to rich eastern regions, traditional and characteristic ones to central and western
regions). Missing cells have score 0. Synthetic.

## existing.csv

`output`: 100 million yuan of value added in the base year, in a few of each cluster's best reference sites
(0.4–0.8 × √regions cells); 40–70 % of the target, at most 1.8 × the reference output of the cell, so that
keeping half of it fits. Synthetic.

## disruptions.csv

`disruption_NN`: each loses the regions nearest a seed region (drawn by GDP), 5–15 % of all regions. Synthetic.
"""


def _network_sources(
    text: str, regions: int, clusters: int, disruptions: int, seed: int, nodes: int, chains: int, corridors: int
) -> str:
    """SOURCES.md with the network (`layout synth --chains`): the text without it, plus its parameters,
    columns and files."""

    def insert(after: str, addition: str) -> str:
        assert text.count(after) == 1, after
        return text.replace(after, after + addition)

    rows = text.split("\n")  # the network's parameters follow the strategy areas in the table
    at = next(n for n, line in enumerate(rows) if line.startswith("| strategy areas | "))
    rows[at + 1 : at + 1] = [f"| nodes | {nodes} |", f"| chain links | {chains} |", f"| corridors | {corridors} |"]
    text = "\n".join(rows)
    text = text.replace(
        f"`layout synth --regions {regions} --clusters {clusters} --seed {seed}` (or\n"
        f"`model.synth.synthesize({regions}, {clusters}, out, disruptions={disruptions}, seed={seed})`).",
        f"`layout synth --regions {regions} --clusters {clusters} --disruptions {disruptions} --seed {seed} "
        f"--chains --nodes {nodes}`\n(or `model.synth.synthesize({regions}, {clusters}, out, "
        f"disruptions={disruptions}, seed={seed}, chains=True, nodes={nodes})`). Without `--chains` they give "
        "the\nsame files less chains.csv, corridors.csv and the `node` and `transport_cost` columns (and any "
        "ceiling raised\nfor the reference standby capacity, see capacity.csv).",
    )
    text = insert(
        "clipped to China's bounding box | – | synthetic |\n",
        "| node | `n01`, …: k-means groups of nearby regions (k-means++ seeds), numbered in order of their first "
        "region | – | synthetic |\n",
    )
    text = insert(
        "| fixed_cost | objective units; min_scale × 0.6–1.4 | synthetic |\n",
        "| transport_cost | objective units per unit moved 1,000 km; by category (future 0.01, strategic 0.015, "
        "advanced 0.03, traditional 0.06, characteristic 0.04) × lognormal noise (σ 0.4) | synthetic |\n",
    )
    text = insert(
        "optimum crowds into the attractive regions and their ceilings bind. Synthetic.\n",
        f"\nWith the network the reference layout also holds standby capacity: {BACKUP_SHARE_REF:g} of each "
        "critical target on its\nhinterland sites, within the room its link bound and the land ceilings leave "
        "(a ceiling is raised where that\nroom falls short). So backup.share up to "
        f"{BACKUP_SHARE_REF:g} (in the hinterland, on land) is feasible too.\n",
    )
    return (
        text
        + f"""
## chains.csv

`per_unit` q_ij: an acyclic set of supply links. Clusters are ordered by a drawn tier (traditional and
characteristic first, future last); the {UPSTREAM_SHARE:.0%} most upstream supply clusters later in that order
(critical ones three times as likely), about {CHAIN_LINKS:g} links per cluster in all. Each upstream cluster's links
use {CHAIN_USE[0]:g}–{CHAIN_USE[1]:g} of its target, Σ_j q_ij·T_j ≤ 0.8·T_i, and no q_ij exceeds {PER_UNIT_MAX:g}. A link that the
reference layout (with its standby capacity) could not keep supplied under some disruption would be dropped,
so the baseline-like scenario with chains, backup and recourse (ρ = {SURVIVAL_REF:g}) is feasible. Synthetic.

## corridors.csv

Between the nodes: each node to its {NEIGHBOURS} nearest nodes, plus a minimum spanning tree (so the graph is
connected). `distance_km`: great-circle distance between the nodes' mean coordinates × {ROUTE_FACTOR[0]:g}–{ROUTE_FACTOR[1]:g}.
`capacity`: about a third of the corridors, the largest load the reference layout puts on it (its chain flows,
and its recourse flows under every disruption; at least 5 % of the mean upstream target) × {CORRIDOR_HEADROOM[0]:g}–{CORRIDOR_HEADROOM[1]:g};
blank elsewhere (no limit). Synthetic.
"""
    )


def synthesize(
    regions: int,
    clusters: int,
    out: Path,
    disruptions: int | None = None,
    seed: int = 0,
    chains: bool = False,
    nodes: int | None = None,
) -> Path:
    """Write a synthetic dataset (docs/dataset.md format) to the folder `out` and return it.

    `disruptions` defaults to max(4, regions // 60), capped at 50. `chains` also writes chains.csv,
    corridors.csv, a `node` column (`nodes` nodes, default min(31, regions)) and `transport_cost`;
    without it the files are those of earlier versions, byte for byte. The same arguments give
    byte-identical files. The folder is written all or nothing (a folder already there is
    replaced). Arguments out of range raise `InputError` (exit code 2 on the command line).
    """
    from model.results import write_folder

    tables = generate(regions, clusters, disruptions, seed, chains=chains, nodes=nodes)
    meta = dict(zip(tables["_meta"]["key"], tables["_meta"]["value"]))
    sources = _sources(regions, clusters, int(meta["disruptions"]), int(meta["strategies"]), seed)
    if chains:
        sources = _network_sources(
            sources,
            regions,
            clusters,
            int(meta["disruptions"]),
            seed,
            int(meta["nodes"]),
            int(meta["chains"]),
            int(meta["corridors"]),
        )

    def csv(table: pd.DataFrame):
        return lambda path: table.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")

    files = {name: csv(table) for name, table in tables.items() if not name.startswith("_")}
    files["SOURCES.md"] = lambda path: path.write_text(sources, encoding="utf-8")
    return write_folder(Path(out), files)
