"""Dataset loading: every error names the file, the line and the column."""

from __future__ import annotations

import pytest

from model.dataset import load_dataset
from model.errors import InputError


def test_loads_the_tiny_dataset(tiny):
    data = load_dataset(tiny)
    assert data.region_ids == ["r1", "r2", "r3"] and data.cluster_ids == ["a", "b"]
    assert data.strategies == ["pole"] and data.disruption_ids == ["coast"]
    assert bool(data.regions.set_index("region").loc["r2", "hinterland"]) is True
    assert len(data.sha256) == 64


def _edit(folder, name, old, new):
    path = folder / name
    path.write_text(path.read_text().replace(old, new, 1))
    return path


@pytest.mark.parametrize(
    "name, old, new, message",
    [
        ("suitability.csv", "a,r1,3", "a,r1,high", "suitability.csv: line 2, column score: 'high' is not a number"),
        ("suitability.csv", "a,r1,3", "a,r9,3", "suitability.csv: line 2, column region: unknown region 'r9'"),
        ("suitability.csv", "a,r1,3", "a,r1,-3", "line 2, column score: -3 is negative"),
        ("clusters.csv", "true", "maybe", "clusters.csv: line 2, column critical: 'maybe' is not true or false"),
        ("clusters.csv", ",99,", ",2.5,", "column max_sites: 2.5 is not a whole number"),
        ("regions.csv", "east", "south", "regions.csv: line 2, column macro_region: 'south' is not one of"),
        ("regions.csv", "r1,R1", "R 1,R1", "regions.csv: line 2, column region: 'R 1' is not an id"),
        ("capacity.csv", "r1,water,12", "r2,water,12", "capacity.csv: line 3: duplicate row"),
        ("intensity.csv", "per_unit", "use", "intensity.csv: line 1: missing column(s) per_unit"),
        ("existing.csv", "cluster,region,output", "cluster,region,output\nb,r1,4,5", "line 2: has 4 cells"),
        ("capacity.csv", "r3,water,12", "", "no row for region 'r3' and resource 'water'"),
    ],
)
def test_errors_name_file_line_and_column(tiny, name, old, new, message):
    _edit(tiny, name, old, new)
    with pytest.raises(InputError) as error:
        load_dataset(tiny)
    assert message in str(error.value)


def test_missing_folder_and_file(tmp_path, tiny):
    with pytest.raises(InputError, match="dataset folder does not exist"):
        load_dataset(tmp_path / "nowhere")
    (tiny / "disruptions.csv").unlink()
    with pytest.raises(InputError, match="disruptions.csv: file is missing"):
        load_dataset(tiny)


def test_not_utf8(tiny):
    (tiny / "regions.csv").write_bytes("region,name\n\xff\xfe".encode("latin-1"))
    with pytest.raises(InputError, match="regions.csv.*not UTF-8"):
        load_dataset(tiny)


# --- the resilient network's optional columns and files (docs/dataset.md#chainscsv) ------------


def network(
    tmp_path,
    chains="upstream,downstream,per_unit\na,b,0.5\n",
    corridors="node_a,node_b,distance_km,capacity\nr1,r2,300,\nr2,r3,400,12.5\n",
):
    """The tiny dataset (conftest) with chains.csv and corridors.csv."""
    from conftest import write_dataset

    folder = write_dataset(
        tmp_path / "net",
        regions=[{"region": "r1"}, {"region": "r2", "hinterland": True}, {"region": "r3"}],
        clusters=[{"cluster": "a", "target": 10, "critical": True}, {"cluster": "b", "target": 10}],
        resources=["water"],
        intensity={("a", "water"): 1, ("b", "water"): 1},
        capacity={(r, "water"): 12 for r in ("r1", "r2", "r3")},
        suitability={(c, r): 1 for c in "ab" for r in ("r1", "r2", "r3")},
    )
    (folder / "chains.csv").write_text(chains)
    (folder / "corridors.csv").write_text(corridors)
    return folder


def test_optional_network_columns_take_their_defaults(tiny):
    data = load_dataset(tiny)
    assert list(data.regions["node"]) == ["r1", "r2", "r3"] and data.node_ids == ["r1", "r2", "r3"]
    assert list(data.clusters["transport_cost"]) == [0.0, 0.0]
    assert not data.has_network and data.chains is None and data.corridors is None


def test_network_files_are_read(tmp_path):
    data = load_dataset(network(tmp_path))
    assert data.has_network and data.chains.to_dict("records") == [
        {"upstream": "a", "downstream": "b", "per_unit": 0.5}
    ]
    assert data.corridors["capacity"].isna().tolist() == [True, False] and data.corridors["capacity"].iloc[1] == 12.5
    # a node column groups regions; corridors run between nodes
    path = tmp_path / "net" / "regions.csv"
    text = path.read_text().splitlines()
    path.write_text(
        "\n".join([text[0] + ",node"] + [line + (",coast" if n < 2 else ",inland") for n, line in enumerate(text[1:])])
        + "\n"
    )
    (tmp_path / "net" / "corridors.csv").write_text("node_a,node_b,distance_km,capacity\ncoast,inland,500,\n")
    data = load_dataset(tmp_path / "net")
    assert data.node_ids == ["coast", "inland"]
    # a blank node is the region itself
    path.write_text(path.read_text().replace(",inland\n", ",\n"))
    (tmp_path / "net" / "corridors.csv").write_text("node_a,node_b,distance_km,capacity\ncoast,r3,500,\n")
    assert load_dataset(tmp_path / "net").node_ids == ["coast", "r3"]


@pytest.mark.parametrize(
    "chains, corridors, message",
    [
        (
            "upstream,downstream,per_unit\na,zz,0.5\n",
            None,
            "chains.csv: line 2, column downstream: unknown downstream 'zz' (not in clusters.csv)",
        ),
        (
            "upstream,downstream,per_unit\na,a,0.5\n",
            None,
            "chains.csv: line 2, column downstream: chain cycle: a is upstream of itself",
        ),
        (
            "upstream,downstream,per_unit\na,b,0.5\nb,a,0.1\n",
            None,
            "chains.csv: line 3, column downstream: chain cycle: a → b → a (a is upstream of itself)",
        ),
        ("upstream,downstream,per_unit\na,b,-0.5\n", None, "chains.csv: line 2, column per_unit: -0.5 is negative"),
        (
            "upstream,downstream,per_unit\na,b,0.5\na,b,0.2\n",
            None,
            "chains.csv: line 3: duplicate row for upstream 'a', downstream 'b'",
        ),
        (
            None,
            "node_a,node_b,distance_km,capacity\nr1,r1,300,\n",
            "corridors.csv: line 2, column node_b: corridor from 'r1' to itself",
        ),
        (
            None,
            "node_a,node_b,distance_km,capacity\nr1,r2,300,\nr2,r1,300,\n",
            "corridors.csv: line 3, column node_a: duplicate corridor between 'r2' and 'r1' (first on line 2)",
        ),
        (
            None,
            "node_a,node_b,distance_km,capacity\nr1,r9,300,\n",
            "corridors.csv: line 2, column node_b: 'r9' is not a node",
        ),
        (
            None,
            "node_a,node_b,distance_km,capacity\nr1,r2,-300,\n",
            "corridors.csv: line 2, column distance_km: -300 is negative",
        ),
        (
            None,
            "node_a,node_b,distance_km,capacity\nr1,r2,300,-1\n",
            "corridors.csv: line 2, column capacity: -1 is negative",
        ),
        (
            None,
            "node_a,node_b,distance_km,capacity\nr1,r2,300,wide\n",
            "corridors.csv: line 2, column capacity: 'wide' is not a number",
        ),
        (None, "node_a,node_b\nr1,r2\n", "corridors.csv: line 1: missing column(s) distance_km, capacity"),
    ],
)
def test_network_errors_name_file_line_and_column(tmp_path, chains, corridors, message):
    folder = network(tmp_path, **{k: v for k, v in (("chains", chains), ("corridors", corridors)) if v is not None})
    with pytest.raises(InputError) as error:
        load_dataset(folder)
    assert message in str(error.value)


def test_a_longer_chain_cycle_is_named(tmp_path):
    from conftest import write_dataset

    folder = write_dataset(
        tmp_path / "d",
        regions=[{"region": "r1"}],
        clusters=[{"cluster": c, "target": 1} for c in "abcd"],
        resources=["land"],
        intensity={},
        capacity={("r1", "land"): 1},
        suitability={},
        chains={("a", "b"): 0.1, ("b", "c"): 0.1, ("d", "a"): 0.1, ("c", "a"): 0.1},
        corridors={},
    )
    with pytest.raises(InputError, match=r"chains.csv: line 5, column downstream: chain cycle: a → b → c → a"):
        load_dataset(folder)


def test_chains_and_corridors_come_together(tmp_path):
    folder = network(tmp_path)
    (folder / "corridors.csv").unlink()
    with pytest.raises(InputError, match="corridors.csv: file is missing: chains.csv and corridors.csv come together"):
        load_dataset(folder)


def test_node_and_transport_cost_columns_are_checked(tmp_path, tiny):
    path = tiny / "regions.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0] + ",node"] + [line + ",Coast" for line in lines[1:]]) + "\n")
    with pytest.raises(InputError, match="regions.csv: line 2, column node: 'Coast' is not an id"):
        load_dataset(tiny)
    path.write_text("\n".join(lines) + "\n")
    path = tiny / "clusters.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0] + ",transport_cost"] + [line + ",-0.1" for line in lines[1:]]) + "\n")
    with pytest.raises(InputError, match="clusters.csv: line 2, column transport_cost: -0.1 is negative"):
        load_dataset(tiny)
