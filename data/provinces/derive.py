#!/usr/bin/env python3
"""Regenerate the default dataset data/provinces/ from the tables in inputs/.

    python data/provinces/derive.py          # writes the CSVs and prints the calibration check
    python data/provinces/derive.py --check  # prints the check only, writes nothing

Every output CSV of this folder is written by this script (byte-for-byte reproducible);
SOURCES.md describes each input and each method. numpy and pandas only.

The network files (corridors.csv, chains.csv, inputs/transport_cost.csv) are written last by
derive_network.py, from the regions written here; see its own docstring.

Inputs (inputs/):
  provinces_published.csv  31 provinces: official statistics and three-lines figures (+ *_basis)
  national.csv             national totals and the few national-level estimates
  resource_assumptions.csv per resource: unit, control line, base intensity, decline to 2030, capacity ratio
  macro_assumptions.csv    per macro-region factors used in the energy and carbon envelopes (estimates)
  cluster_assumptions.csv  per cluster: base-year value added, growth, sizes, orientation, hosts, multipliers
  specialisation.csv       (cluster, region) pairs with an existing specialisation and its source
  phase_out.csv            existing output in cells that may not host the cluster in 2030
  disruption_sets.csv      lost regions per disruption scenario and the basis
  existing_anchors.csv     published physical output per province that anchors existing output (steel, clean energy)

Besides the dataset tables (docs/dataset.md) it writes provenance.csv: every control line and ceiling per province
and every anchored existing-output cell, each with its basis (published / proxy / estimate).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
INPUTS = HERE / "inputs"
BASE_YEAR, TARGET_YEAR = 2023, 2030
SCORE_MIN, SCORE_MAX = 0.3, 2.0  # clip range of suitability scores
SPEC_STEP, SPEC_CAP = 0.3, 2.0  # +30 % per unit of specialisation weight, at most 2 units
MIN_EXISTING_SHARE = 0.005  # existing output is not spread over cells below 0.5 % of the cluster
EXISTING_SITES_SLACK = 2  # existing sites per cluster <= max_sites - 2 (so keep_existing stays feasible)
GRANDFATHER = 0.9  # capacity never below existing use / 0.9 (existing output keeps 10 % headroom)


def read(name: str) -> pd.DataFrame:
    return pd.read_csv(INPUTS / name, keep_default_na=False, na_values=[""])


def ids(cell) -> list[str]:
    return [] if pd.isna(cell) or cell == "" else str(cell).split(";")


def booltxt(v) -> str:
    return "true" if bool(v) else "false"


# ---------------------------------------------------------------- regions
def build_regions(P: pd.DataFrame) -> pd.DataFrame:
    out = P[["region", "name", "name_zh", "macro_region"]].copy()
    # Modelling assumption: hinterland = central + west (no official list of 国家战略腹地 exists).
    out["hinterland"] = P["macro_region"].isin(["central", "west"]).map(booltxt)
    out["strategies"] = P["strategies"].fillna("")
    out["population"] = P["population"]
    out["gdp"] = P["gdp"]
    out["area_km2"] = P["area_km2"].astype(int)
    out["lon"] = P["lon"].round(2)
    out["lat"] = P["lat"].round(2)
    return out


# ---------------------------------------------------------------- control lines
def residual_split(total: float, weights: pd.Series) -> pd.Series:
    return total * weights / weights.sum()


def fill_lines(P: pd.DataFrame, N: dict) -> pd.DataFrame:
    """Fill the figures that are not published, each by the rule stated in SOURCES.md, so that every
    column adds up to the national figure it is drawn from."""
    P = P.copy()
    # cultivated land 2035: the province without a figure (Tibet) takes the national residual
    est = P["cultivated_basis"] == "estimate"
    P.loc[est, "cultivated_2035_10k_mu"] = residual_split(
        N["cultivated_2035_national"] - P.loc[~est, "cultivated_2035_10k_mu"].sum(), P.loc[est, "area_km2"]
    )
    # permanent basic farmland 2035: the national residual, split by cultivated land
    est = P["pbf_basis"] == "estimate"
    P.loc[est, "pbf_2035_10k_mu"] = residual_split(
        N["pbf_2035_national"] - P.loc[~est, "pbf_2035_10k_mu"].sum(), P.loc[est, "cultivated_2035_10k_mu"]
    )
    P["farmland_beyond_pbf_10k_mu"] = (P["cultivated_2035_10k_mu"] - P["pbf_2035_10k_mu"]).clip(lower=0.0)
    # 2025 water caps: the national cap minus the published and proxied caps, split over the others in
    # proportion to an estimate of their use: agricultural use by cultivated land, domestic and ecological use
    # by population, industrial use by the published 2012 industrial use
    est = P["water_cap_basis"] == "estimate"
    g = P[est]
    ind = g["industrial_water_2012_100m_m3"]
    ind = ind.fillna(g["gdp"] * ind.sum() / g.loc[ind.notna(), "gdp"].sum())  # no 2012 figure: group mean per GDP
    use = N["water_use_2023"]
    w = (
        N["agricultural_water_use_2023"] / use * g["cultivated_2035_10k_mu"] / g["cultivated_2035_10k_mu"].sum()
        + (N["domestic_water_use_2023"] + N["ecological_water_use_2023"])
        / use
        * g["population"]
        / g["population"].sum()
        + N["industrial_water_use_2023"] / use * ind / ind.sum()
    )
    P.loc[est, "water_cap_2025_100m_m3"] = residual_split(
        N["water_cap_2025_national"] - P.loc[~est, "water_cap_2025_100m_m3"].sum(), w
    )
    # 2019 construction land (城镇村及工矿用地): only the national total is published; split by sqrt(population x GDP)
    size = np.sqrt(P["population"] * P["gdp"])
    P["construction_land_2019_km2"] = residual_split(N["construction_land_2019"], size)
    return P


LINE_ITEMS = [  # item, column, unit, basis column (or a fixed basis)
    ("cultivated_2035", "cultivated_2035_10k_mu", "10^4 mu", "cultivated_basis"),
    ("permanent_basic_farmland_2035", "pbf_2035_10k_mu", "10^4 mu", "pbf_basis"),
    ("farmland_beyond_pbf", "farmland_beyond_pbf_10k_mu", "10^4 mu", None),
    ("ecological_red_line_2035", "erl_2035_km2", "km2", "erl_basis"),
    ("udb_multiplier", "udb_multiplier", "x 2020 urban construction land", "udb_basis"),
    ("construction_land_2019", "construction_land_2019_km2", "km2", "=proxy"),
    ("water_cap_2025", "water_cap_2025_100m_m3", "100 million m3", "water_cap_basis"),
    ("co2_2019", "co2_2019_mt", "Mt CO2", "co2_basis"),
]


def basis_word(text) -> str:
    """published / proxy / estimate, from the free-text basis columns of the input table."""
    t = str(text).lower()
    if t.startswith("published"):
        return "published"
    if t.startswith("proxy") or t.startswith("plan:"):
        return "proxy"
    return "estimate"


def line_provenance(P: pd.DataFrame) -> list[tuple]:
    rows = []
    for item, col, unit, bcol in LINE_ITEMS:
        for _, p in P.iterrows():
            if bcol is None:  # derived from two lines: published only if both are
                both = basis_word(p["cultivated_basis"]) == basis_word(p["pbf_basis"]) == "published"
                basis = "published" if both else "estimate"
            elif bcol.startswith("="):
                basis = bcol[1:]
            else:
                basis = basis_word(p[bcol])
            rows.append(("line", item, p["region"], round(float(p[col]), 2), unit, basis))
    return rows


# ---------------------------------------------------------------- clusters
def target_of(A: pd.DataFrame) -> pd.Series:
    """2030 target = base-year value added grown at the stated annual rate, rounded to 10."""
    t = A["base_va_2023"] * (1 + A["growth"]) ** (TARGET_YEAR - BASE_YEAR)
    return (t / 10).round() * 10


def network_module():
    """derive_network.py of this folder (the corridors, chains and transport costs)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("derive_network", HERE / "derive_network.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build_clusters(A: pd.DataFrame) -> pd.DataFrame:
    target = target_of(A)
    min_scale = (target * A["min_scale_frac"]).round(1)
    transport = network_module().build_network(HERE)["transport_cost"].set_index("cluster")["transport_cost"]
    return pd.DataFrame(
        {
            "cluster": A["cluster"],
            "name": A["name"],
            "category": A["category"],
            "critical": A["critical"].map(booltxt),
            "target": target.astype(int),
            "min_scale": min_scale,
            "max_sites": A["max_sites"].astype(int),
            "fixed_cost": (min_scale * A["fixed_cost_mult"]).round(1),
            "transport_cost": A["cluster"].map(transport).to_numpy(),
        }
    )


# ---------------------------------------------------------------- intensity
def base_intensity(N: dict, R: pd.DataFrame) -> dict:
    """National average use per 100 million yuan of value added in 2030, per resource."""
    energy_2023 = N["energy_total_2023"] * N["industry_energy_share"] / N["industrial_va_2023"]  # 10^4 tce
    start = {
        "land": N["land_per_industrial_va_2020"],  # km2
        # m3/10^4 yuan == 10^4 m3 / 10^8 yuan; manufacturing excludes the once-through cooling of power plants
        "water": N["water_per_industrial_va_2022"]
        * (1 - N["once_through_cooling_2022"] / N["industrial_water_use_2022"]),
        "energy": energy_2023,
        "carbon": energy_2023 * N["co2_per_tce"],  # 10^4 t CO2
        "environment": N["pollutant_per_industrial_va_2023"],  # t
        "farmland": N["cultivated_land_2019"] / N["primary_va_2023"],  # 10^4 mu of cultivated land per 10^8 yuan
    }
    out = {}
    for _, r in R.iterrows():
        years = TARGET_YEAR - int(r["base_year"])
        out[r["resource"]] = start[r["resource"]] * (1 - r["decline"]) ** (years / r["decline_years"])
    # clean energy keeps the all-industry water intensity (2023, incl. cooling), with the same decline
    w = R.set_index("resource").loc["water"]
    out["water_all_industry"] = N["water_per_industrial_va_2023"] * (1 - w["decline"]) ** (
        (TARGET_YEAR - 2023) / w["decline_years"]
    )
    return out


def sig(x: float, digits: int = 4) -> float:
    return float(f"{x:.{digits}g}")


def build_intensity(A: pd.DataFrame, base: dict, resources: list[str]) -> pd.DataFrame:
    rows = []
    for _, c in A.iterrows():
        for k in resources:
            mult = c[f"m_{k}"] * (c["m_energy"] if k == "carbon" else 1.0)  # m_carbon is CO2 per unit of energy
            b = base["water_all_industry"] if k == "water" and c["water_base"] == "all_industry" else base[k]
            rows.append((c["cluster"], k, sig(b * mult)))
    return pd.DataFrame(rows, columns=["cluster", "resource", "per_unit"])


# ---------------------------------------------------------------- suitability
def region_factors(P: pd.DataFrame) -> pd.DataFrame:
    f = pd.DataFrame(index=P["region"])
    pop, gdp = P["population"].to_numpy(), P["gdp"].to_numpy()
    gdppc = gdp / pop
    f["gdppc_rel"] = gdppc / (gdp.sum() / pop.sum())
    cult = P["cultivated_2035_10k_mu"].to_numpy() / pop
    f["cropland"] = cult / (P["cultivated_2035_10k_mu"].sum() / pop.sum())
    free_land = (P["area_km2"] - (P["erl_2035_km2"] - P["erl_marine_km2"])).to_numpy()
    f["renewables"] = (free_land / pop) / (free_land.sum() / pop.sum())
    f["none"] = 1.0
    return f


def hostable(c: pd.Series, regions: list[str]) -> list[str]:
    only, excl = ids(c["host_only"]), set(ids(c["host_exclude"]))
    return [r for r in (only or regions) if r not in excl]


def build_suitability(A, P, S, X) -> pd.DataFrame:
    regions = P["region"].tolist()
    macro = dict(zip(P["region"], P["macro_region"]))
    F = region_factors(P)
    spec = S.groupby(["cluster", "region"])["weight"].sum()
    phase_out = set(zip(X["cluster"], X["region"]))
    rows = []
    for _, c in A.iterrows():
        hosts = [r for r in hostable(c, regions) if (c["cluster"], r) not in phase_out]
        raw = []
        for r in hosts:
            orient = c[f"orient_{macro[r]}"]
            bonus = 1 + SPEC_STEP * min(spec.get((c["cluster"], r), 0.0), SPEC_CAP)
            econ = F.at[r, "gdppc_rel"] ** c["econ_elasticity"]
            res = F.at[r, c["resource_factor"]] ** c["resource_exponent"]
            raw.append(orient * bonus * econ * res)
        raw = np.array(raw) / np.mean(raw)  # 1 = average over the hosting regions
        score = np.clip(raw, SCORE_MIN, SCORE_MAX).round(2)
        rows += [(c["cluster"], r, s) for r, s in zip(hosts, score)]
    return pd.DataFrame(rows, columns=["cluster", "region", "score"])


# ---------------------------------------------------------------- existing output
def anchor_weights(kind: str, P: pd.DataFrame, AN: pd.DataFrame, N: dict) -> tuple[pd.Series, pd.Series]:
    """Relative existing output per province from a published physical anchor, and each cell's basis."""
    regions = P["region"]
    if kind == "crude_steel":  # 2023 published; the national residual split by 2018 output for the rest
        a = AN[AN["cluster"] == "steel_and_nonferrous"]
        y23, y18 = a[a["anchor"] == "crude_steel_2023"], a[a["anchor"] == "crude_steel_2018"]
        w = pd.Series(y23["value"].to_numpy(float), index=y23["region"])
        rest = residual_split(
            N["crude_steel_2023"] - w.sum(), pd.Series(y18["value"].to_numpy(float), index=y18["region"])
        )
        basis = pd.Series(y23["basis"].map({"published": "published_anchor"}).fillna("proxy").to_numpy(), index=w.index)
        w, basis = pd.concat([w, rest]), pd.concat([basis, pd.Series("estimate", index=rest.index)])
    elif kind == "clean_generation":  # hydro + wind + solar generation, NBS 2022 H1; north-west residual estimated
        a = AN[AN["cluster"] == "clean_energy"]
        listed = a.groupby("region")["value"].sum()
        nw = ["shaanxi", "gansu", "qinghai", "ningxia", "xinjiang"]
        residual = sum(N[f"{t}_generation_2022h1"] for t in ("hydro", "wind", "solar")) - listed.sum()
        free_land = (P["area_km2"] - (P["erl_2035_km2"] - P["erl_marine_km2"])).set_axis(regions)
        w = listed.reindex(regions).fillna(0.0)
        w[nw] += residual_split(residual, np.sqrt(free_land[nw]))
        basis = pd.Series("published_anchor", index=regions)
        basis[nw] = "estimate"
    elif kind == "cropland_population":  # agricultural output ~ sqrt(cultivated land x population)
        p = P.set_index("region")
        w = np.sqrt(p["cultivated_2035_10k_mu"] * p["population"])
        basis = pd.Series("proxy", index=regions)
    else:
        raise ValueError(kind)
    return w.reindex(regions).fillna(0.0), basis.reindex(regions).fillna("estimate")


def build_existing(A, P, S, suit, X, AN, N) -> tuple[pd.DataFrame, list[tuple]]:
    """Base-year output. Anchored clusters: split by their published anchor (or proxy). Others: cluster total split
    over its largest hosting regions by (score x bonus)^2 x sqrt(size)."""
    spec = S.groupby(["cluster", "region"])["weight"].sum()
    size = {
        "gdp": P.set_index("region")["gdp"],
        "population": P.set_index("region")["population"],
        "area": np.sqrt(P.set_index("region")["area_km2"]),
        "none": pd.Series(1.0, index=P["region"]),
    }
    rows, prov = [], []
    for _, c in A.iterrows():
        s = suit[suit["cluster"] == c["cluster"]].set_index("region")["score"]
        bonus = pd.Series(
            [1 + SPEC_STEP * min(spec.get((c["cluster"], r), 0.0), SPEC_CAP) for r in s.index], index=s.index
        )
        w = (s * bonus) ** 2 * np.sqrt(size[c["existing_weight"]].reindex(s.index))
        w = w / w.sum()
        cell_basis = pd.Series("estimate", index=s.index)
        if c["existing_basis"] != "estimate":  # anchor_weight of the output follows the anchor
            anchor, cell_basis = anchor_weights(c["existing_anchor"], P, AN, N)
            anchor = anchor.reindex(s.index)  # only hosting regions keep their anchored output
            w = c["anchor_weight"] * anchor / anchor.sum() + (1 - c["anchor_weight"]) * w
        share = (w / w.sum()).sort_values(ascending=False, kind="stable")
        share = share.iloc[: int(c["max_sites"]) - EXISTING_SITES_SLACK]  # existing sites leave room for new ones
        share = share[share >= MIN_EXISTING_SHARE]
        share = share / share.sum()
        po = X[X["cluster"] == c["cluster"]]
        total = c["base_va_2023"] - po["output"].sum()
        for r in P["region"]:  # region order of regions.csv
            if r in share.index:
                out = round(float(total * share[r]), 1)
                rows.append((c["cluster"], r, out))
                prov.append(("existing", c["cluster"], r, out, "100 million yuan", cell_basis[r]))
        rows += [(c["cluster"], r, float(o)) for r, o in zip(po["region"], po["output"])]
        prov += [
            ("existing", c["cluster"], r, float(o), "100 million yuan", "estimate")
            for r, o in zip(po["region"], po["output"])
        ]
    return pd.DataFrame(rows, columns=["cluster", "region", "output"]), prov


# ---------------------------------------------------------------- capacity
def industrial_water_share(p: pd.DataFrame, N: dict) -> pd.Series:
    """Share of the 2025 cap that manufacturing may use: the national share of industrial use without once-through
    cooling (2022), times sqrt(relative GDP per m3 of cap), clipped to [0.015, 0.3]."""
    density = (p["gdp"] / p["water_cap_2025_100m_m3"]) / (p["gdp"].sum() / p["water_cap_2025_100m_m3"].sum())
    share = (N["industrial_water_use_2022"] - N["once_through_cooling_2022"]) / N["water_use_2022"]
    return np.clip(share * np.sqrt(density), 0.015, 0.3)


def envelopes(P, M, N) -> pd.DataFrame:
    """Relative provincial envelope of each resource (arbitrary scale, see SOURCES.md)."""
    p = P.set_index("region")
    m = M.set_index("macro_region").reindex(p["macro_region"]).set_index(p.index)
    e = pd.DataFrame(index=p.index)
    # land: construction land (三调 城镇村及工矿用地, proxied per province), times the UDB expansion multiplier
    e["land"] = p["construction_land_2019_km2"] * p["udb_multiplier"]
    # water: 2025 cap x industrial share without once-through cooling; the share rises with economic density
    e["water"] = p["water_cap_2025_100m_m3"] * industrial_water_share(p, N)
    # energy: GDP x macro-regional energy-intensity factor
    e["energy"] = p["gdp"] * m["energy_intensity_factor"]
    # carbon: geometric mean of CEADs 2019 territorial CO2 and GDP (electricity-importing provinces are charged
    # for imported power), x macro-regional peaking trend to 2030
    e["carbon"] = np.sqrt(p["co2_2019_mt"] * p["gdp"]) * m["co2_trend_2019_2030"]
    # environment: GDP^0.7 x (land outside the ecological red line)^0.3; key air-pollution regions x0.7
    free_land = p["area_km2"] - (p["erl_2035_km2"] - p["erl_marine_km2"])
    e["environment"] = p["gdp"] ** 0.7 * free_land**0.3 * np.where(p["air_key_region"], 0.7, 1.0)
    return e


def need_of(clusters: pd.DataFrame, intensity: pd.DataFrame) -> pd.Series:
    t = intensity.merge(clusters[["cluster", "target"]], on="cluster")
    return (t["per_unit"] * t["target"]).groupby(t["resource"]).sum()


def existing_use(existing: pd.DataFrame, intensity: pd.DataFrame, regions) -> pd.DataFrame:
    x = existing.merge(intensity, on="cluster")
    x["use"] = x["output"] * x["per_unit"]
    return x.pivot_table(index="region", columns="resource", values="use", aggfunc="sum").reindex(regions).fillna(0.0)


def build_capacity(P, M, N, R, clusters, intensity, existing) -> pd.DataFrame:
    """National total = capacity_ratio x need; split over provinces by the envelope, but never below
    existing use / GRANDFATHER (the remainder is re-split over the other provinces)."""
    e = envelopes(P, M, N)
    need = need_of(clusters, intensity)
    floor = existing_use(existing, intensity, P["region"]) / GRANDFATHER
    cap = pd.DataFrame(index=P["region"])
    for _, res in R.iterrows():
        k = res["resource"]
        if res["capacity_rule"] == "published_land":  # farmland: the land itself, no calibration, no grandfathering
            cap[k] = P.set_index("region")["farmland_beyond_pbf_10k_mu"]
            continue
        total = res["capacity_ratio"] * need[k]
        fixed = pd.Series(False, index=e.index)
        for _ in range(len(e)):  # converges in a few rounds
            free = total - floor[k][fixed].sum()
            val = (free * e[k] / e[k][~fixed].sum()).where(~fixed, floor[k])
            newly = (val < floor[k]) & ~fixed
            if not newly.any():
                break
            fixed |= newly
        cap[k] = val
    rows = [(r, k, round(float(cap.at[r, k]), 1)) for r in P["region"] for k in R["resource"]]
    return pd.DataFrame(rows, columns=["region", "resource", "available"])


# ---------------------------------------------------------------- disruptions
def build_disruptions(D) -> pd.DataFrame:
    return pd.DataFrame(
        [(d, r) for d, regs in zip(D["disruption"], D["regions"]) for r in ids(regs)], columns=["disruption", "region"]
    )


# ---------------------------------------------------------------- check
def check(regions, clusters, intensity, capacity, suit, existing, disruptions, out=print):
    T = clusters.set_index("cluster")["target"]
    crit = clusters.loc[clusters["critical"] == "true", "cluster"].tolist()
    a = intensity.pivot(index="cluster", columns="resource", values="per_unit")
    cap = capacity.pivot(index="region", columns="resource", values="available")
    res = list(a.columns)
    H = regions.loc[regions["hinterland"] == "true", "region"].tolist()
    s = suit.pivot(index="cluster", columns="region", values="score").reindex(columns=regions["region"]).fillna(0)

    out(
        f"clusters {len(T)}, critical {len(crit)}, total 2030 target {T.sum():,.0f} (100 million yuan)"
        f" = {T.sum() / regions['gdp'].sum():.1%} of 2023 GDP"
    )
    need = (a.mul(T, axis=0)).sum()
    out("\nresource      need      capacity   ratio   (national)")
    for k in res:
        out(f"{k:12s} {need[k]:12,.0f} {cap[k].sum():12,.0f}  {cap[k].sum() / need[k]:.2f}")

    macro = regions.set_index("region")["macro_region"]
    share = cap.groupby(macro).sum() / cap.sum()
    gdp = regions.groupby("macro_region")["gdp"].sum() / regions["gdp"].sum()
    out("\nmacro-region share of capacity (GDP share in brackets):")
    for m_, row in share.iterrows():
        out(f"  {m_:10s} ({gdp[m_]:.0%})  " + "  ".join(f"{k} {row[k]:.0%}" for k in res))

    out("\naggregate checks for critical clusters (share x target x intensity vs capacity of the region set):")
    crit_need = a.loc[crit].mul(T[crit], axis=0).sum()
    sets = {"hinterland (>=30%)": (H, 0.3)}
    for d, grp in disruptions.groupby("disruption"):
        sets[f"outside {d} (>=60%)"] = ([r for r in regions["region"] if r not in set(grp["region"])], 0.6)
    for label, (rs, share) in sets.items():
        ratio = cap.loc[rs].sum() / (share * crit_need)
        out(f"  {label:45s} " + "  ".join(f"{k} {ratio[k]:.1f}" for k in res))

    out(
        "\nper cluster: hosts (hinterland), existing/target, max output if alone in hinterland / outside seaboard,"
        " top max_sites headroom / target"
    )
    seaboard = set(disruptions.loc[disruptions["disruption"] == "eastern_seaboard_blockade", "region"])
    e_tot = existing.groupby("cluster")["output"].sum()
    for i in T.index:
        hosts = s.columns[s.loc[i] > 0]
        c_i = 0.35 if i in crit else 1.0
        U = pd.Series(
            {r: min(c_i * T[i], min(cap.at[r, k] / a.at[i, k] for k in res if a.at[i, k] > 0)) for r in hosts}
        )
        n = int(clusters.set_index("cluster").at[i, "max_sites"])
        hin = U[[r for r in hosts if r in H]].sum() / T[i]
        inland = U[[r for r in hosts if r not in seaboard]].sum() / T[i]
        top = U.sort_values(ascending=False).iloc[:n].sum() / T[i]
        flag = " CRITICAL" if i in crit else ""
        out(
            f"  {i:28s} {len(hosts):2d} ({sum(r in H for r in hosts):2d})  ex/T {e_tot.get(i, 0) / T[i]:.2f}"
            f"  hint {hin:5.2f}  inland {inland:5.2f}  top{n} {top:5.2f}{flag}"
        )
        assert len(hosts) >= 10, i
        if i in crit:
            assert sum(r in H for r in hosts) >= 5, i

    use = existing_use(existing, intensity, cap.index)
    util = use / cap
    k_max = util.max().idxmax()
    out(
        f"\nexisting output as a share of capacity: max {util.max().max():.2f} ({util[k_max].idxmax()}, {k_max}),"
        f" national " + "  ".join(f"{k} {use[k].sum() / cap[k].sum():.2f}" for k in res)
    )
    sc = suit["score"]
    out(
        f"scores: {len(sc)} cells > 0, {((sc >= 0.3) & (sc <= 2.0)).mean():.0%} within [0.3, 2.0], "
        f"existing cells with score 0: {len(existing.merge(suit, how='left', on=['cluster', 'region']).query('score != score'))}"
    )


def report_lines(I: dict, out: dict, say=print) -> None:
    """Counts of published / proxied / estimated provinces per line, and the shares the capacities stand for."""
    P, N = I["P"].set_index("region"), I["N"]
    prov, cap = out["provenance"], out["capacity"].pivot(index="region", columns="resource", values="available")
    say("\nlines and ceilings: provinces published / proxy / estimate")
    lines = prov[prov["table"] == "line"]
    for item, g in lines.groupby("item", sort=False):
        n = g["basis"].value_counts()
        say(f"  {item:32s} {n.get('published', 0):2d} / {n.get('proxy', 0):2d} / {n.get('estimate', 0):2d}")
    ex = prov[prov["table"] == "existing"]
    say("existing output cells: " + ", ".join(f"{b} {n}" for b, n in ex["basis"].value_counts().sort_index().items()))
    say(
        f"\nwater: caps sum {P['water_cap_2025_100m_m3'].sum():,.1f} (national {N['water_cap_2025_national']:,.0f}) x10^8 m3;"
        f" available to the clusters {cap['water'].sum() / 1e4:,.1f} = {cap['water'].sum() / 1e4 / P['water_cap_2025_100m_m3'].sum():.1%}"
        " of the caps, "
        f"{cap['water'].sum() / 1e4 / (N['water_cap_2025_national'] * (N['industrial_water_use_2022'] - N['once_through_cooling_2022']) / N['water_use_2022']):.0%}"
        " of the industrial share without cooling"
    )
    share = cap["water"] / 1e4 / P["water_cap_2025_100m_m3"]
    say(f"  share of each province's cap: {share.min():.1%} ({share.idxmin()}) to {share.max():.1%} ({share.idxmax()})")
    udb = (P["construction_land_2019_km2"] * P["udb_multiplier"]).sum()
    say(
        f"land: construction land 2019 (proxy) {P['construction_land_2019_km2'].sum():,.0f} km2, x UDB multiplier {udb:,.0f};"
        f" available to the clusters {cap['land'].sum():,.0f} km2 = {cap['land'].sum() / udb:.1%}"
    )
    a = out["intensity"].query("resource == 'farmland'").set_index("cluster")["per_unit"]
    T = out["clusters"].set_index("cluster")["target"]
    need = (a * T).sum()
    say(
        f"farmland: beyond PBF {cap['farmland'].sum():,.0f} x10^4 mu (national {N['cultivated_2035_national'] - N['pbf_2035_national']:,.0f});"
        f" the targets need {need:,.0f} ({need / cap['farmland'].sum():.0%})"
    )


# ---------------------------------------------------------------- main
def load_inputs() -> dict:
    P = read("provinces_published.csv")
    P["air_key_region"] = P["air_key_region"].astype(str).str.lower() == "true"
    A = read("cluster_assumptions.csv")
    A["critical"] = A["critical"].astype(str).str.lower() == "true"
    N = dict(zip(read("national.csv")["key"], read("national.csv")["value"]))
    return {
        "P": fill_lines(P, N),
        "A": A,
        "N": N,
        "S": read("specialisation.csv"),
        "X": read("phase_out.csv"),
        "D": read("disruption_sets.csv"),
        "R": read("resource_assumptions.csv"),
        "M": read("macro_assumptions.csv"),
        "AN": read("existing_anchors.csv"),
    }


def build_all(I: dict | None = None) -> dict[str, pd.DataFrame]:
    """Every output table of this folder, by file stem."""
    I = I or load_inputs()
    P, A, N, R = I["P"], I["A"], I["N"], I["R"]
    regions = build_regions(P)
    clusters = build_clusters(A)
    resources = R[["resource", "name", "unit", "line"]]
    intensity = build_intensity(A, base_intensity(N, R), R["resource"].tolist())
    suit = build_suitability(A, P, I["S"], I["X"])
    existing, prov = build_existing(A, P, I["S"], suit, I["X"], I["AN"], N)
    capacity = build_capacity(P, I["M"], N, R, clusters, intensity, existing)
    disruptions = build_disruptions(I["D"])
    provenance = pd.DataFrame(line_provenance(P) + prov, columns=["table", "item", "region", "value", "unit", "basis"])
    return {
        "regions": regions,
        "clusters": clusters,
        "resources": resources,
        "intensity": intensity,
        "capacity": capacity,
        "suitability": suit,
        "existing": existing,
        "disruptions": disruptions,
        "provenance": provenance,
    }


def csv_text(df: pd.DataFrame) -> str:
    return df.to_csv(index=False, lineterminator="\n")


def main(argv: list[str]) -> None:
    I = load_inputs()
    out = build_all(I)
    if "--check" not in argv:
        for name, df in out.items():
            (HERE / f"{name}.csv").write_text(csv_text(df), encoding="utf-8")
    check(*(out[k] for k in ("regions", "clusters", "intensity", "capacity", "suitability", "existing", "disruptions")))
    report_lines(I, out)
    # corridors.csv, chains.csv and the transport costs, from the regions just written (derive_network.py)
    if network_module().main(argv):
        sys.exit(1)


if __name__ == "__main__":
    main(sys.argv[1:])
