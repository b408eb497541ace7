"""The `layout` command line: exit codes, one-line errors, no half-written run folders."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from model.cli import main
from conftest import write_scenario


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "model.cli", *args], capture_output=True, text=True)


def test_version_and_help(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0 and "productive-layout" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for command in ("solve", "validate"):
        assert command in out


def test_solve_writes_the_run_folder(tmp_path, tiny, capsys):
    scenario = write_scenario(tmp_path / "s.yaml", tiny, resilience={"disruption_survival": 0.6})
    out = tmp_path / "run"
    assert main(["solve", str(scenario), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "optimal" in printed and "objective 34 " in printed
    for name in ("layout.csv", "regions.csv", "resources.csv", "resilience.csv", "summary.json", "scenario.yaml"):
        assert (out / name).is_file()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "optimal" and summary["objective"] == pytest.approx(34)
    assert len(summary["scenario_sha256"]) == 64 and summary["versions"]["highspy"]
    layout = pd.read_csv(out / "layout.csv")
    assert list(layout.columns) == ["cluster", "region", "output", "established", "share_of_target"]


def test_set_overrides_from_the_command_line(tmp_path, tiny):
    scenario = write_scenario(tmp_path / "s.yaml", tiny)
    out = tmp_path / "run"
    assert main(["solve", str(scenario), "--out", str(out), "--set", "resilience.hinterland_share=0.5"]) == 0
    assert json.loads((out / "summary.json").read_text())["objective"] == pytest.approx(35)
    assert "hinterland_share: 0.5" in (out / "scenario.yaml").read_text()


def test_validate(tmp_path, tiny, capsys):
    assert main(["validate", str(write_scenario(tmp_path / "s.yaml", tiny))]) == 0
    assert "valid" in capsys.readouterr().out


@pytest.mark.parametrize(
    "content, needle",
    [
        ("resilience: {hinterland_shar: 0.3}", "resilience.hinterland_shar: unknown key"),
        ("resilience: {hinterland_share: 1.5}", "resilience.hinterland_share"),
        ("resilience: {min_sites: three}", "resilience.min_sites"),
        ("targets: {clusters: {zz: 1.2}}", "targets.clusters.zz: unknown cluster"),
        ("resilience: {hinterland_share: 0.3", "not valid YAML"),
        ("name: !!python/object/apply:os.system ['true']", "not valid YAML"),
    ],
)
def test_bad_scenarios_exit_2_with_one_line(tmp_path, tiny, content, needle):
    path = tmp_path / "bad.yaml"
    path.write_text(f"data: {tiny}\n{content}\n")
    out = tmp_path / "run"
    done = run("solve", str(path), "--out", str(out))
    assert done.returncode == 2
    assert needle in done.stderr and str(path) in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    assert not out.exists() and not list(tmp_path.glob(".run*"))


def test_bad_dataset_exits_2(tmp_path, tiny):
    (tiny / "capacity.csv").write_text((tiny / "capacity.csv").read_text().replace("r1,water,12", "r1,water,lots"))
    done = run("validate", str(write_scenario(tmp_path / "s.yaml", tiny)))
    assert done.returncode == 2 and "capacity.csv: line 2, column available: 'lots' is not a number" in done.stderr
    done = run("solve", str(write_scenario(tmp_path / "s.yaml", tmp_path / "missing")))
    assert done.returncode == 2 and "does not exist" in done.stderr
    done = run("solve", str(tmp_path / "nothing.yaml"))
    assert done.returncode == 2 and "nothing.yaml" in done.stderr


def test_bad_set_exits_2(tmp_path, tiny):
    done = run("solve", str(write_scenario(tmp_path / "s.yaml", tiny)), "--set", "resilience.nope=1")
    assert done.returncode == 2 and "--set resilience.nope" in done.stderr


def test_infeasible_exits_3_and_points_to_diagnose(tmp_path, tiny):
    # 100 % of a outside r1 and in r2 at most 40 % (concentration) with r3 alone unable to take 60 %
    scenario = write_scenario(
        tmp_path / "s.yaml",
        tiny,
        resilience={"disruption_survival": 1.0, "concentration_cap": 0.4},
        ceilings={"water": {"regions": {"r3": 0.1}}},
    )
    out = tmp_path / "run"
    done = run("solve", str(scenario), "--out", str(out))
    assert done.returncode == 3, done.stdout + done.stderr
    assert "layout diagnose" in done.stderr
    assert json.loads((out / "summary.json").read_text())["status"] == "infeasible"


def test_same_scenario_twice_gives_the_same_layout(tmp_path, tiny):
    scenario = write_scenario(tmp_path / "s.yaml", tiny, resilience={"hinterland_share": 0.3, "min_sites": 2})
    for n in (1, 2):
        assert main(["solve", str(scenario), "--out", str(tmp_path / f"run{n}")]) == 0
    for name in ("layout.csv", "resources.csv", "resilience.csv"):
        assert (tmp_path / "run1" / name).read_text() == (tmp_path / "run2" / name).read_text()


HEAVY = ("pyomo", "highspy", "pandas", "numpy", "scipy", "matplotlib")


def _imported_after(code: str) -> list[str]:
    """The heavy libraries a fresh interpreter has imported after running `code`."""
    probe = f"import sys\n{code}\nprint('imported:' + ','.join(m for m in {HEAVY!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return [m for m in done.stdout.rsplit("imported:", 1)[1].strip().split(",") if m]


def test_help_and_a_bad_key_import_neither_solver_nor_data_libraries(tmp_path, tiny):
    assert _imported_after("import model.cli\nmodel.cli.parser().format_help()") == []
    bad = write_scenario(tmp_path / "bad.yaml", tiny, resilience={"hinterland_shar": 0.3})
    code = f"import model.cli\nassert model.cli.main(['validate', {str(bad)!r}]) == 2"
    assert _imported_after(code) == []
    # a valid scenario needs its dataset (pandas) but still not the solver or the plots
    good = write_scenario(tmp_path / "good.yaml", tiny)
    code = f"import model.cli\nassert model.cli.main(['validate', {str(good)!r}]) == 0"
    assert set(_imported_after(code)).isdisjoint({"pyomo", "highspy", "matplotlib"})


def test_a_solve_does_not_import_scipy_stats(tmp_path, tiny):
    """Pyomo imports scipy.stats (over a second) along with scipy unless model.pyomo_blocks drops its hook
    first; the whole `layout solve` path gets by without it."""
    scenario = write_scenario(tmp_path / "s.yaml", tiny)
    code = (
        "import sys, model.cli\n"
        f"assert model.cli.main(['solve', {str(scenario)!r}, '--out', {str(tmp_path / 'run')!r}]) == 0\n"
        "print('stats:', 'scipy.stats' in sys.modules, 'scipy.sparse' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.rsplit("stats:", 1)[1].split() == ["False", "True"]


def test_nothing_from_the_solver_reaches_the_console_unless_a_log_is_asked_for(tmp_path, tiny):
    scenario = write_scenario(tmp_path / "s.yaml", tiny)
    done = run("solve", str(scenario), "--out", str(tmp_path / "quiet"))
    assert done.returncode == 0, done.stderr
    assert "HiGHS" not in done.stdout + done.stderr and done.stdout.startswith("s: optimal")
    assert not (tmp_path / "quiet" / "solver.log").exists()
    done = run("solve", str(scenario), "--out", str(tmp_path / "logged"), "--set", "solver.log=true")
    assert done.returncode == 0 and "HiGHS" not in done.stdout + done.stderr
    log = (tmp_path / "logged" / "solver.log").read_text()
    assert log.startswith("HiGHS ") and "Presolv" in log
