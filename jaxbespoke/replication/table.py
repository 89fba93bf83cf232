"""All rows of the replication table, in the registry's order: the bespoke figures from the
preset runs, the sparse-attention figures from the sparse experiment's results, the
attention-cost figures from the cost model, and the documents' statuses on top of them."""

from __future__ import annotations

from jaxbespoke.replication import bespoke, figures
from jaxbespoke.replication.rows import make_row
from jaxbespoke.replication.verdicts import NA


def build(R: dict, *, sparse_results: dict | None = None, timing: dict | None = None) -> list[dict]:
    """R: bespoke run results (runs.*); sparse_results: merged JSON of
    experiments/sparse_attention.py runs (None: those rows say they were not given)."""
    from jaxbespoke.replication import sparse_rows

    rows = bespoke.build_rows(R, timing)
    rows += sparse_rows.cost_rows()
    if sparse_results is not None:
        rows += sparse_rows.sparse_rows(sparse_results)
        rows += sparse_rows.sparse_status_rows(sparse_results)
    have = {r["key"] for r in rows}
    # the table lists every figure: one whose experiment was not run here says so
    rows += [make_row(f, verdict=NA, number="not measured in this run: its experiment was not "
                                             "run or its results were not given", explanation="")
             for f in figures.FIGURES if f.key not in have]
    order = {f.key: i for i, f in enumerate(figures.FIGURES)}
    return sorted(rows, key=lambda r: order[r["key"]])
