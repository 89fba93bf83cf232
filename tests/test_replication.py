"""The replication core: rows for every figure, verdict rules that can fail, the row schema."""

import numpy as np
import pytest

from jaxbespoke.replication import bespoke, figures
from jaxbespoke.replication import verdicts as V

ROW_KEYS = {"experiment", "figure", "source", "kind", "reported", "measured", "single_draw",
            "floor", "baseline", "verdict", "explanation", "number", "claim", "key"}
RNG = np.random.default_rng(0)


def _res(std, bes, *, n=8, sd=0.05, low_noise=None, floor=3.0, params=(100, 200),
         unpaired=True, short=False, labels=()):
    """Synthetic per-seed results in the runner's layout."""
    s = np.abs(RNG.normal(std, sd, n))
    b = np.abs(RNG.normal(bes, sd, n))
    d = low_noise if low_noise is not None else bes - std
    cs = np.abs(RNG.normal(std, 0.01, n))
    res = {"final": {"standard": s, "bespoke": b}, "corrected": {"standard": cs,
                                                               "bespoke": cs + d + RNG.normal(0, 0.002, n)},
           "params": {"standard": np.full(n, params[0]), "bespoke": np.full(n, params[1])},
           "floor": {"floor": floor, "entropy": floor, "floor_kind": "entropy H", "baseline": None},
           "short": short, "steps": 50, "full_steps": 50 if not short else 5000,
           "seeds": list(range(n)), "curves": {}, "compare": "model"}
    if unpaired:
        res["final"]["bespoke/unpaired"] = np.abs(RNG.normal(bes, sd, n))
    for lab in labels:
        res["final"][lab] = np.abs(RNG.normal(std, sd, n))
        res["corrected"][lab] = res["final"][lab]
    return res


def synthetic_R():
    R = {"focused": _res(2.95, 2.97, sd=0.2, params=(25_800, 63_944))}
    R["focused"]["curves"] = {k: {"epochs": [0, 49], "values": {"val_full": np.stack(
        [R["focused"]["corrected"][k] + 2, R["focused"]["corrected"][k]], 1)}}
        for k in ("standard", "bespoke")}
    for size, (s, b) in zip(bespoke.SCALING_SIZES, ((3.85, 3.81), (4.67, 0.87), (3.62, 0.15),
                                                    (2.42, 0.87))):
        R[f"scaling_{size}"] = _res(s, b, sd=0.3, params=(51_656, 135_624), unpaired=False,
                                    low_noise=-1.0)
    R["initial"] = _res(3.2157, 3.0796, params=(46_372, 67_492), unpaired=False, low_noise=0.0)
    R["optimized"] = _res(4.39, 3.85, sd=0.3, params=(25_600, 48_812), low_noise=-0.4)
    R["ultra"] = _res(4.28, 4.0, sd=0.3, params=(25_600, 30_464), low_noise=-0.3)
    R["ultra"]["tier_sizes"] = [[20, 20, 160]] * 8
    d = _res(0.3, 0.5, params=(1_054_440, 1_081_780), short=True, labels=("standard/causal",))
    d["final"]["standard/causal"] = RNG.normal(4.25, 0.01, 8)
    d["floor"] = {"floor": 0.132, "entropy": 4.2275, "floor_kind": "H/T", "baseline": None}
    d["curves"] = {"standard": {"epochs": [0, 1], "values": np.stack([d["final"]["standard"] + 1,
                                                                      d["final"]["standard"]], 1)}}
    R["definitive"] = d
    return R


@pytest.fixture(scope="module")
def rows():
    return bespoke.build_rows(synthetic_R())


def test_rows_have_the_schema_and_a_verdict_from_the_vocabulary(rows):
    for r in rows:
        assert ROW_KEYS <= set(r), r["key"]
        assert r["verdict"] in V.VOCABULARY
        m = r["measured"]
        if m is not None:
            assert {"values", "center", "interval", "method"} <= set(m)


def test_one_row_per_figure_of_every_experiment_run(rows):
    keys = [r["key"] for r in rows]
    assert len(keys) == len(set(keys))
    for exp in ("focused", "scaling", "initial", "optimized", "ultra", "statistics"):
        for fig in figures.by_experiment(exp):
            assert fig.key in keys, fig.key


def test_intervals_stay_in_range(rows):
    for r in rows:
        for iv in ((r["measured"] or {}).get("interval"), (r["single_draw"] or {}).get("interval")):
            if iv is not None and r["quantity"] in ("loss", "ratio", "count"):
                assert iv[0] >= 0, r["key"]


def test_ratio_verdicts_can_go_every_way():
    base = _res(4.0, 3.6, sd=0.2, low_noise=-0.4)
    tests = bespoke.direction_tests({"optimized": base})
    t = tests["optimized"]
    assert t["direction"] == "bespoke better"
    v = lambda rep, **kw: bespoke.ratio_row("optimized.ratio", base, t, unpaired=True,
                                            reported=rep, **kw)["verdict"]
    assert v(0.9) == V.REPLICATED
    assert v(1.05) == V.WITHIN_NOISE          # plausible draw, claimed direction not supported
    assert v(0.2) == V.NOT_REPLICATED         # outside what one draw gives
    assert v(0.9, artefact="flaw") == V.ARTEFACT
    null = _res(4.0, 4.0, sd=0.2, low_noise=0.0)
    tn = bespoke.direction_tests({"optimized": null})["optimized"]
    assert tn["direction"] == "no detectable difference"
    assert bespoke.ratio_row("optimized.ratio", null, tn, unpaired=True,
                             reported=0.95)["verdict"] == V.WITHIN_NOISE


def test_count_rows_can_fail():
    assert bespoke.count_row("focused.standard_params", [25_800] * 3)["verdict"] == V.REPLICATED
    assert bespoke.count_row("focused.standard_params", [25_801] * 3)["verdict"] == \
        V.NOT_REPLICATED


def test_the_unpaired_yardstick_is_wider_than_the_paired_one():
    """focused: the reported +0.6% is judged against the original's unpaired design."""
    R = synthetic_R()
    f = R["focused"]
    row = bespoke.focused_rows(f, bespoke.direction_tests(R))[2]
    assert row["key"] == "focused.ratio" and "unpaired" in row["number"]
    from jaxbespoke.utils import stats
    paired = stats.single_draw(f["final"]["bespoke"] / f["final"]["standard"], "ratio")
    assert row["single_draw"]["interval"] != paired["interval"]


def test_summary_statistics_are_never_computed_and_recomputed_not_copied(rows):
    by = {r["key"]: r for r in rows}
    assert by["statistics.p_value"]["verdict"] == V.NEVER_COMPUTED
    assert by["statistics.ratio_ci"]["verdict"] == V.NEVER_COMPUTED
    assert "reproduces" in by["statistics.ratio_ci"]["number"]
    assert "5.16" in by["statistics.average_improvement"]["number"]
    assert by["statistics.all_superior"]["verdict"] == V.NOT_REPLICATED


def test_shortened_definitive_is_marked(rows):
    by = {r["key"]: r for r in rows}
    r = by["definitive.standard_loss"]
    assert r["shortened"] == {"steps": 50, "full_steps": 5000}
    assert r["floor"] == pytest.approx(0.132)


def test_the_table_lists_every_registry_figure_once():
    from jaxbespoke.replication import table

    rows = table.build(synthetic_R())
    keys = [r["key"] for r in rows]
    assert sorted(keys) == sorted(f.key for f in figures.FIGURES)
    by = {r["key"]: r for r in rows}
    # not run here: said so, never judged
    assert by["medium.standard_params"]["verdict"] == V.NA
    assert by["sparse.selector_accuracy"]["verdict"] == V.NA


def test_definitive_without_a_trained_bespoke_model_gives_no_ratio_verdict():
    R = synthetic_R()
    for part in ("final", "corrected"):
        del R["definitive"][part]["bespoke"]
    by = {r["key"]: r for r in bespoke.build_rows(R)}
    assert by["definitive.loss_ratio_criterion"]["verdict"] == V.NA
    assert by["definitive.bespoke_params"]["verdict"] == V.REPLICATED
