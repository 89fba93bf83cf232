"""The verdict rule: each outcome reachable, none from fewer than 2 seeds."""

import pytest

from jaxbespoke.utils import stats
from jaxbespoke.replication import verdicts as V


def test_every_verdict_is_reachable_and_has_a_written_rule():
    got = {
        V.judge(plausible=True, claim=True),
        V.judge(plausible=True),
        V.judge(plausible=True, claim=False),
        V.judge(plausible=True, artefact="a leak"),
        V.judge(plausible=False, claim=True),
        V.judge(plausible=None, never_computed=True),
        V.judge(plausible=True, n=1),
        V.judge(plausible=None),
    }
    assert got == set(V.VOCABULARY)
    assert set(V.RULES) == set(V.VOCABULARY)


def test_order_of_precedence():
    # a number outside the estimator's range is not replicated even if an artefact explains it
    assert V.judge(plausible=False, artefact="leak") == V.NOT_REPLICATED
    # an artefact outranks the claim
    assert V.judge(plausible=True, claim=True, artefact="leak") == V.ARTEFACT
    assert V.judge(plausible=True, claim=False, never_computed=True) == V.NEVER_COMPUTED
    # no noise excuses a deterministic figure whose claim fails
    assert V.judge(plausible=True, claim=False, stochastic=False) == V.NOT_REPLICATED


@pytest.mark.parametrize("n", [0, 1])
def test_fewer_than_two_seeds_never_give_a_verdict(n):
    values = [3.0] * n
    for claim in (True, False, None):
        assert V.judge(plausible=True, claim=claim, n=n) == V.NA
    if n:
        sd = stats.single_draw(values, "level")
        assert sd["interval"] is None
        assert V.inside(3.0, sd["interval"]) is None
        assert V.judge(plausible=V.inside(3.0, sd["interval"])) == V.NA


def test_a_single_draw_verdict_can_go_either_way():
    vals = [3.0, 3.1, 2.9, 3.05, 2.95, 3.2, 2.8, 3.0]
    iv = stats.single_draw(vals, "level")["interval"]
    assert V.judge(plausible=V.inside(3.1, iv)) == V.REPLICATED
    assert V.judge(plausible=V.inside(5.0, iv)) == V.NOT_REPLICATED


def test_make_row_refuses_a_verdict_from_one_seed():
    from jaxbespoke.replication.rows import make_row

    class Fig:
        key, experiment, figure, source, kind, quantity, reported = (
            "x.y", "x", "y", "this project", "derived", "loss", 1.0)

    m = stats.summarize([1.0], "level")
    with pytest.raises(ValueError):
        make_row(Fig(), measured=m, verdict=V.REPLICATED, number="", explanation="")
    assert make_row(Fig(), measured=m, verdict=V.NA, number="", explanation="")["verdict"] == V.NA
    with pytest.raises(ValueError):
        make_row(Fig(), verdict="confirmed", number="", explanation="")
