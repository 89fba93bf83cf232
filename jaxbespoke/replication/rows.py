"""The row schema of the replication report, its Markdown rendering and its tally.

One row per figure (see `figures.FIGURES`): what was reported and where, what we measured (per-seed
values, a center, an interval and the method that made it), the interval one draw of the
original's own estimator falls in, the floor (a true lower bound given the input) or a baseline,
what holds of the number, what holds of the claim, and the verdict (`verdicts.judge`).
"""

from __future__ import annotations

import math

from jaxbespoke.replication.verdicts import NA, VOCABULARY


def make_row(fig, *, verdict: str, number: str, explanation: str, claim: str | None = None,
             measured: dict | None = None, single_draw: dict | None = None,
             floor: float | None = None, baseline: dict | None = None, metric: str | None = None,
             shortened: dict | None = None) -> dict:
    """A report row for `fig` (a figures.Figure). `measured` comes from stats.summarize,
    `single_draw` from stats.single_draw / unpaired_single_draw; `number` and `claim` are one
    phrase each; `shortened` = {"steps": run, "full_steps": original} for shortened runs."""
    if verdict not in VOCABULARY:
        raise ValueError(f"unknown verdict {verdict!r}; expected one of {VOCABULARY}")
    n = None if measured is None else measured.get("n")
    if n is not None and n < 2 and verdict != NA and measured.get("stochastic", True):
        raise ValueError(f"{fig.key}: a verdict from n={n} seeds")
    return {"key": fig.key, "experiment": fig.experiment, "figure": fig.figure,
            "source": fig.source, "kind": fig.kind, "quantity": fig.quantity,
            "reported": fig.reported, "metric": metric, "measured": measured,
            "single_draw": single_draw, "floor": floor, "baseline": baseline,
            "number": number, "claim": claim, "verdict": verdict, "explanation": explanation,
            "shortened": shortened}


def g(x, digits: int = 4) -> str:
    """Compact number formatting for tables."""
    if x is None:
        return "-"
    if isinstance(x, str):
        return x
    if isinstance(x, int) and abs(x) >= 1000:
        return f"{x:,}"
    if isinstance(x, float) and not math.isfinite(x):
        return "n/a"
    return f"{x:.{digits}g}"


def fmt_measured(m: dict | None) -> str:
    if m is None:
        return "-"
    if m.get("interval") is None:
        vals = ", ".join(g(v, 3) for v in m["values"][:8]) + (", ..." if m["n"] > 8 else "")
        return f"{g(m['center'])} (n={m['n']}: {vals})"
    lo, hi = m["interval"]
    if lo == hi:
        return f"{g(m['center'])} (all {m['n']} equal)"
    gm = "geo. " if m.get("center_kind") == "geometric mean" else ""
    return f"{gm}{g(m['center'])} [{g(lo)}, {g(hi)}] (n={m['n']})"


def fmt_interval(d: dict | None) -> str:
    if d is None or d.get("interval") is None:
        return "-"
    lo, hi = d["interval"]
    return f"[{g(lo)}, {g(hi)}]"


def tally(rows: list[dict]) -> dict:
    """Counts by kind ('reported' / 'derived') and verdict."""
    out: dict = {}
    for r in rows:
        k = out.setdefault(r["kind"], {"rows": 0})
        k["rows"] += 1
        k[r["verdict"]] = k.get(r["verdict"], 0) + 1
    return out


def tally_line(rows: list[dict]) -> str:
    t = tally(rows)
    parts = []
    for kind in ("reported", "derived"):
        if kind in t:
            c = t[kind]
            inner = ", ".join(f"{c[v]} {v}" for v in VOCABULARY if v in c)
            parts.append(f"{c['rows']} {kind} figures ({inner})")
    return "; ".join(parts)


def markdown_table(rows: list[dict]) -> str:
    """The figures table: one line per row."""
    head = ["experiment", "figure", "source", "kind", "reported", "measured [95% interval]",
            "one draw of the original's estimator", "floor / baseline", "verdict",
            "number; claim; explanation"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        fb = "-" if r["floor"] is None else f"floor {g(r['floor'], 3)}"
        if r.get("baseline"):
            fb += f"; baseline {g(r['baseline']['value'], 3)}"
        short = ""
        if r.get("shortened"):
            s = r["shortened"]
            short = f" (short: {s['steps']:,}/{s['full_steps']:,} steps)"
        text = r["number"] + (f"; {r['claim']}" if r.get("claim") else "") + \
            (f". {r['explanation']}" if r["explanation"] else "")
        cells = [r["experiment"], r["figure"], r["source"], r["kind"], g(r["reported"]),
                 fmt_measured(r["measured"]), fmt_interval(r["single_draw"]), fb,
                 f"**{r['verdict']}**{short}", text]
        lines.append("| " + " | ".join(str(c).replace("|", "/").replace("\n", " ")
                                        for c in cells) + " |")
    return "\n".join(lines)


def rules_markdown() -> str:
    from jaxbespoke.replication.verdicts import RULES

    return "\n".join(f"- *{v}*: {RULES[v]}." for v in VOCABULARY)
