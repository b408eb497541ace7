#!/usr/bin/env python3
"""Regenerate the default dataset data/provinces/ from the tables in inputs/.

    python data/provinces/derive.py          # writes the CSVs and prints the calibration check
    python data/provinces/derive.py --check  # prints the check only, writes nothing

Every output CSV of this folder is written by this script (byte-for-byte reproducible);
SOURCES.md describes each input and each method. numpy and pandas only.

Inputs (inputs/):
  provinces_published.csv  31 provinces: official statistics and three-lines figures (+ *_basis)
  national.csv             national totals and the few national-level estimates
  resource_assumptions.csv per resource: unit, control line, base intensity, decline to 2030, capacity ratio
  macro_assumptions.csv    per macro-region factors used in the energy and carbon envelopes (estimates)
  cluster_assumptions.csv  per cluster: base-year value added, growth, sizes, orientation, hosts, multipliers
  specialisation.csv       (cluster, region) pairs with an existing specialisation and its source
  phase_out.csv            existing output in cells that may not host the cluster in 2030
  disruption_sets.csv      lost regions per disruption scenario and the basis
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
INPUTS = HERE / "inputs"
BASE_YEAR, TARGET_YEAR = 2023, 2030
SCORE_MIN, SCORE_MAX = 0.3, 2.0      # clip range of suitability scores
SPEC_STEP, SPEC_CAP = 0.3, 2.0       # +30 % per unit of specialisation weight, at most 2 units
MIN_EXISTING_SHARE = 0.005           # existing output is not spread over cells below 0.5 % of the cluster
EXISTING_SITES_SLACK = 2             # existing sites per cluster <= max_sites - 2 (so keep_existing stays feasible)
GRANDFATHER = 0.9                    # capacity never below existing use / 0.9 (existing output keeps 10 % headroom)


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


# ---------------------------------------------------------------- clusters
def target_of(A: pd.DataFrame) -> pd.Series:
    """2030 target = base-year value added grown at the stated annual rate, rounded to 10."""
    t = A["base_va_2023"] * (1 + A["growth"]) ** (TARGET_YEAR - BASE_YEAR)
    return (t / 10).round() * 10


def build_clusters(A: pd.DataFrame) -> pd.DataFrame:
    target = target_of(A)
    min_scale = (target * A["min_scale_frac"]).round(1)
    return pd.DataFrame({
        "cluster": A["cluster"], "name": A["name"], "category": A["category"],
        "critical": A["critical"].map(booltxt),
        "target": target.astype(int), "min_scale": min_scale,
        "max_sites": A["max_sites"].astype(int),
        "fixed_cost": (min_scale * A["fixed_cost_mult"]).round(1),
    })


# ---------------------------------------------------------------- intensity
def base_intensity(N: dict, R: pd.DataFrame) -> dict:
    """National average use per 100 million yuan of value added in 2030, per resource."""
    energy_2023 = N["energy_total_2023"] * N["industry_energy_share"] / N["industrial_va_2023"]  # 10^4 tce
    start = {
        "land": N["land_per_industrial_va_2020"],            # km2
        "water": N["water_per_industrial_va_2023"],          # m3/10^4 yuan == 10^4 m3 / 10^8 yuan
        "energy": energy_2023,
        "carbon": energy_2023 * N["co2_per_tce"],            # 10^4 t CO2
        "environment": N["pollutant_per_industrial_va_2023"],  # t
    }
    out = {}
    for _, r in R.iterrows():
        years = TARGET_YEAR - int(r["base_year"])
        out[r["resource"]] = start[r["resource"]] * (1 - r["decline"]) ** (years / r["decline_years"])
    return out


def sig(x: float, digits: int = 4) -> float:
    return float(f"{x:.{digits}g}")


def build_intensity(A: pd.DataFrame, base: dict, resources: list[str]) -> pd.DataFrame:
    rows = []
    for _, c in A.iterrows():
        for k in resources:
            mult = c[f"m_{k}"] * (c["m_energy"] if k == "carbon" else 1.0)   # m_carbon is CO2 per unit of energy
            rows.append((c["cluster"], k, sig(base[k] * mult)))
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
        raw = np.array(raw) / np.mean(raw)               # 1 = average over the hosting regions
        score = np.clip(raw, SCORE_MIN, SCORE_MAX).round(2)
        rows += [(c["cluster"], r, s) for r, s in zip(hosts, score)]
    return pd.DataFrame(rows, columns=["cluster", "region", "score"])


# ---------------------------------------------------------------- existing output
def build_existing(A, P, S, suit, X) -> pd.DataFrame:
    """Base-year output: cluster total split over its largest hosting regions by (score x bonus)^2 x sqrt(size)."""
    spec = S.groupby(["cluster", "region"])["weight"].sum()
    size = {
        "gdp": P.set_index("region")["gdp"],
        "population": P.set_index("region")["population"],
        "area": np.sqrt(P.set_index("region")["area_km2"]),
        "none": pd.Series(1.0, index=P["region"]),
    }
    rows = []
    for _, c in A.iterrows():
        s = suit[suit["cluster"] == c["cluster"]].set_index("region")["score"]
        bonus = pd.Series([1 + SPEC_STEP * min(spec.get((c["cluster"], r), 0.0), SPEC_CAP) for r in s.index],
                          index=s.index)
        w = (s * bonus) ** 2 * np.sqrt(size[c["existing_weight"]].reindex(s.index))
        share = (w / w.sum()).sort_values(ascending=False, kind="stable")
        share = share.iloc[: int(c["max_sites"]) - EXISTING_SITES_SLACK]   # existing sites leave room for new ones
        share = share[share >= MIN_EXISTING_SHARE]
        share = share / share.sum()
        po = X[X["cluster"] == c["cluster"]]
        total = c["base_va_2023"] - po["output"].sum()
        for r in P["region"]:                            # region order of regions.csv
            if r in share.index:
                rows.append((c["cluster"], r, round(float(total * share[r]), 1)))
        rows += [(c["cluster"], r, float(o)) for r, o in zip(po["region"], po["output"])]
    return pd.DataFrame(rows, columns=["cluster", "region", "output"])


# ---------------------------------------------------------------- capacity
def envelopes(P, M, N) -> pd.DataFrame:
    """Relative provincial envelope of each resource (arbitrary scale, see SOURCES.md)."""
    p = P.set_index("region")
    m = M.set_index("macro_region").reindex(p["macro_region"]).set_index(p.index)
    e = pd.DataFrame(index=p.index)
    # land: 2020 urban construction land ~ sqrt(pop*gdp), times the UDB expansion multiplier
    e["land"] = np.sqrt(p["population"] * p["gdp"]) * p["udb_multiplier"]
    # water: 2025 cap x industrial share; the share rises with economic density (GDP per m3 of cap)
    density = (p["gdp"] / p["water_cap_2025_100m_m3"]) / (p["gdp"].sum() / p["water_cap_2025_100m_m3"].sum())
    ind_share = N["industrial_water_use_2023"] / N["water_use_2023"]
    e["water"] = p["water_cap_2025_100m_m3"] * np.clip(ind_share * np.sqrt(density), 0.03, 0.6)
    # energy: GDP x macro-regional energy-intensity factor
    e["energy"] = p["gdp"] * m["energy_intensity_factor"]
    # carbon: geometric mean of CEADs 2019 territorial CO2 and GDP (electricity-importing provinces are charged
    # for imported power), x macro-regional peaking trend to 2030
    e["carbon"] = np.sqrt(p["co2_2019_mt"] * p["gdp"]) * m["co2_trend_2019_2030"]
    # environment: GDP^0.7 x (land outside the ecological red line)^0.3; key air-pollution regions x0.7
    free_land = p["area_km2"] - (p["erl_2035_km2"] - p["erl_marine_km2"])
    e["environment"] = p["gdp"] ** 0.7 * free_land ** 0.3 * np.where(p["air_key_region"], 0.7, 1.0)
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
        total = res["capacity_ratio"] * need[k]
        fixed = pd.Series(False, index=e.index)
        for _ in range(len(e)):                          # converges in a few rounds
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
    return pd.DataFrame([(d, r) for d, regs in zip(D["disruption"], D["regions"]) for r in ids(regs)],
                        columns=["disruption", "region"])


# ---------------------------------------------------------------- check
def check(regions, clusters, intensity, capacity, suit, existing, disruptions, out=print):
    T = clusters.set_index("cluster")["target"]
    crit = clusters.loc[clusters["critical"] == "true", "cluster"].tolist()
    a = intensity.pivot(index="cluster", columns="resource", values="per_unit")
    cap = capacity.pivot(index="region", columns="resource", values="available")
    res = list(a.columns)
    H = regions.loc[regions["hinterland"] == "true", "region"].tolist()
    s = suit.pivot(index="cluster", columns="region", values="score").reindex(columns=regions["region"]).fillna(0)

    out(f"clusters {len(T)}, critical {len(crit)}, total 2030 target {T.sum():,.0f} (100 million yuan)"
        f" = {T.sum() / regions['gdp'].sum():.1%} of 2023 GDP")
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

    out("\nper cluster: hosts (hinterland), existing/target, max output if alone in hinterland / outside seaboard,"
        " top max_sites headroom / target")
    seaboard = set(disruptions.loc[disruptions["disruption"] == "eastern_seaboard_blockade", "region"])
    e_tot = existing.groupby("cluster")["output"].sum()
    for i in T.index:
        hosts = s.columns[s.loc[i] > 0]
        c_i = 0.35 if i in crit else 1.0
        U = pd.Series({r: min(c_i * T[i], min(cap.at[r, k] / a.at[i, k] for k in res if a.at[i, k] > 0))
                       for r in hosts})
        n = int(clusters.set_index("cluster").at[i, "max_sites"])
        hin = U[[r for r in hosts if r in H]].sum() / T[i]
        inland = U[[r for r in hosts if r not in seaboard]].sum() / T[i]
        top = U.sort_values(ascending=False).iloc[:n].sum() / T[i]
        flag = " CRITICAL" if i in crit else ""
        out(f"  {i:28s} {len(hosts):2d} ({sum(r in H for r in hosts):2d})  ex/T {e_tot.get(i, 0) / T[i]:.2f}"
            f"  hint {hin:5.2f}  inland {inland:5.2f}  top{n} {top:5.2f}{flag}")
        assert len(hosts) >= 10, i
        if i in crit:
            assert sum(r in H for r in hosts) >= 5, i

    use = existing_use(existing, intensity, cap.index)
    util = use / cap
    k_max = util.max().idxmax()
    out(f"\nexisting output as a share of capacity: max {util.max().max():.2f} ({util[k_max].idxmax()}, {k_max}),"
        f" national " + "  ".join(f"{k} {use[k].sum() / cap[k].sum():.2f}" for k in res))
    sc = suit["score"]
    out(f"scores: {len(sc)} cells > 0, {((sc >= 0.3) & (sc <= 2.0)).mean():.0%} within [0.3, 2.0], "
        f"existing cells with score 0: {len(existing.merge(suit, how='left', on=['cluster', 'region']).query('score != score'))}")


# ---------------------------------------------------------------- main
def main(argv: list[str]) -> None:
    P = read("provinces_published.csv")
    P["air_key_region"] = P["air_key_region"].astype(str).str.lower() == "true"
    A = read("cluster_assumptions.csv")
    A["critical"] = A["critical"].astype(str).str.lower() == "true"
    S, X, D = read("specialisation.csv"), read("phase_out.csv"), read("disruption_sets.csv")
    R, M = read("resource_assumptions.csv"), read("macro_assumptions.csv")
    N = dict(zip(read("national.csv")["key"], read("national.csv")["value"]))

    regions = build_regions(P)
    clusters = build_clusters(A)
    resources = R[["resource", "name", "unit", "line"]]
    intensity = build_intensity(A, base_intensity(N, R), R["resource"].tolist())
    suit = build_suitability(A, P, S, X)
    existing = build_existing(A, P, S, suit, X)
    capacity = build_capacity(P, M, N, R, clusters, intensity, existing)
    disruptions = build_disruptions(D)

    if "--check" not in argv:
        for name, df in [("regions", regions), ("clusters", clusters), ("resources", resources),
                         ("intensity", intensity), ("capacity", capacity), ("suitability", suit),
                         ("existing", existing), ("disruptions", disruptions)]:
            df.to_csv(HERE / f"{name}.csv", index=False, lineterminator="\n", encoding="utf-8")
    check(regions, clusters, intensity, capacity, suit, existing, disruptions)


if __name__ == "__main__":
    main(sys.argv[1:])
