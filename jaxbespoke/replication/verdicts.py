"""The verdict vocabulary and the one rule that assigns it.

A row judges two things and says both: the *number* (is the reported figure what the original's
own estimator produces?) and the *claim* it carried (does our most precise measurement support
what the original concluded from it?). `judge` turns the two answers into one verdict.
"""

from __future__ import annotations

REPLICATED = "replicated"
WITHIN_NOISE = "within noise"
ARTEFACT = "artefact"
NOT_REPLICATED = "not replicated"
NEVER_COMPUTED = "never computed"
NA = "n/a"

VOCABULARY: tuple[str, ...] = (REPLICATED, WITHIN_NOISE, ARTEFACT, NOT_REPLICATED,
                               NEVER_COMPUTED, NA)

RULES: dict[str, str] = {
    REPLICATED: "the number is reproduced (exactly, to its printed precision, or as a plausible "
                "draw of the original's own estimator) and the claim it carried, if any, is "
                "supported by our most precise measurement (Holm-corrected where several "
                "claims are tested together)",
    WITHIN_NOISE: "the number is a plausible draw of the original's estimator, but the claim it "
                  "carried is not supported: the estimator's noise, not the effect, explains it",
    ARTEFACT: "the number is reproducible, but it is produced by a flaw of the protocol (a leak, a "
              "degenerate task, a comparison after a few steps), so it does not measure what "
              "the claim says",
    NOT_REPLICATED: "the number falls outside what the original's own estimator produces (or its "
                    "arithmetic, configuration or status does not reproduce), so it cannot be a "
                    "draw of the stated experiment; or, for a deterministic figure (a count, an "
                    "arithmetic result, a status), the claim it carried does not hold",
    NEVER_COMPUTED: "the original labelled the number as a statistic (p-value, effect size, "
                    "confidence interval) that its code never computed; the row says whether "
                    "its arithmetic reproduces and what the real statistic gives",
    NA: "no verdict: fewer than 2 seeds, or nothing to measure it against",
}


def judge(*, plausible: bool | None, claim: bool | None = None, artefact: str | None = None,
          never_computed: bool = False, n: int | None = None, stochastic: bool = True) -> str:
    """One verdict from the answers about a figure.

    plausible: the reported number is consistent with our measurement of the same estimator
      (inside its single-draw interval, exact, or its arithmetic reproduces); None = unknown.
    claim: the claim it carried is supported (True), not supported or contradicted (False), or
      it carried none beyond the number (None).
    artefact: the protocol flaw that produces the number, if one does.
    never_computed: the figure names a statistic the original never computed.
    n: seeds behind the measurement, where it is stochastic; fewer than 2 gives no verdict.
    stochastic: False for deterministic figures (counts, arithmetic, statuses): no sampling noise
      can excuse an unsupported claim there, so it is 'not replicated', not 'within noise'."""
    if n is not None and n < 2:
        return NA
    if never_computed:
        return NEVER_COMPUTED
    if plausible is None:
        return NA
    if not plausible:
        return NOT_REPLICATED
    if artefact:
        return ARTEFACT
    if claim is False:
        return WITHIN_NOISE if stochastic else NOT_REPLICATED
    return REPLICATED


def inside(x: float, interval) -> bool | None:
    """x inside [lo, hi]; None when there is no interval."""
    if interval is None:
        return None
    return bool(interval[0] <= x <= interval[1])
