"""The benchmark's direct highspy matrix (benchmarks/forms.py), written from docs/model.md without the
formulation, hands HiGHS exactly the project's model: the ratios benchmarks/run.py prints compare like
with like."""

import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


@pytest.fixture(scope="module")
def bench():
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import run

        yield run
    finally:
        sys.path.remove(str(BENCHMARKS))


@pytest.mark.parametrize(
    "network, periods",
    [(None, False), ("resilient", False), ("chains", True), ("resilient", True)],
    ids=["plain", "resilient_network", "periods", "periods_resilient_network"],
)
def test_matrix_form_is_the_projects_model_element_by_element(bench, tmp_path, network, periods):
    from model.synth import synthesize

    data = synthesize(31, 20, tmp_path / "data", seed=0, chains=network is not None)
    scenario = bench.write_scenario(tmp_path, data, 60.0, 0.01, network, periods)
    verified = bench.verify(str(scenario), forms=("highspy",))  # linopy is an extra (`.[bench]`)
    assert verified["highspy"]["identical"], verified["highspy"]["fields"]
