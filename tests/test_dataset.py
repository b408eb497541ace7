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


@pytest.mark.parametrize("name, old, new, message", [
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
])
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
