"""REPLICATION.md and its plots: the one table of everything the original claimed."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from jaxbespoke.utils import report, stats
from jaxbespoke.replication.rows import fmt_measured, markdown_table, rules_markdown, tally_line

HOW = """\
## How verdicts are made

- **Estimators.** Each reported figure is re-measured with the original's own estimator (its
  validation sample, or its last training batch, exactly as the script computed "final loss"),
  once per seed; seeds are independent corpora, tiers, initial weights and batch streams. Beside
  it we record a low-noise metric (every window of a held-out segment, or of the whole corpus).
- **Two designs.** The original trained its two models one after the other from one global RNG,
  so most of its standard and bespoke numbers are *unpaired* draws (different batches and
  validation targets); scaling, the 3-epoch test and debug used the same batches for both. A
  reported single draw is judged against where one draw of *that* estimator falls: for an
  unpaired ratio or difference we train the bespoke model again on its own batch stream. The
  effect itself is measured with our *paired* design (both models on the same corpus, tiers and
  batches per seed) on the low-noise metric, which is far more precise.
- **Intervals.** Levels (losses, counts): mean with a bootstrap percentile interval (it cannot
  leave the values' range). Ratios: geometric mean with a t interval on the log scale.
  Differences: mean with a t interval. One draw of an estimator: a 95% prediction interval, on
  the log scale for positive quantities. With fewer than 4 seeds the values are shown instead of
  an interval; with fewer than 2 there is no verdict.
- **Multiple comparisons.** The direction tests (bespoke vs standard, one per experiment whose
  ratio was reported) form one pre-declared family, Holm-corrected; a claim counts as supported
  only at Holm-adjusted p < 0.05.
- **Floors.** A floor is a true lower bound on the expected loss given what the model sees
  (entropy H for i.i.d. next tokens, ln V for a random label, H/T for an unmasked encoder with
  positions, the bag floor without positions, 0 where the label is a function of the input). A
  baseline (e.g. the best input-independent loss) is labelled as such.
- **Vocabulary.** One rule (`jaxbespoke.replication.verdicts.judge`) assigns every verdict:
"""


def final_losses(R: dict) -> list[list]:
    """Every trained run's final losses next to its floor."""
    lines = []
    for key, res in R.items():
        if "final" not in res:
            continue
        fl = res["floor"]
        for label, v in res["final"].items():
            lines.append([key, label, fmt_measured(stats.summarize(v, "level")),
                          fmt_measured(stats.summarize(res["corrected"][label], "level")),
                          f"{fl['floor']:.3f}", fl.get("floor_kind", ""),
                          "-" if not fl.get("baseline") else f"{fl['baseline']['value']:.3f}",
                          f"{fl['entropy']:.3f}", f"{res['steps']:,}/{res['full_steps']:,}"])
    return lines


def markdown(doc: dict) -> str:
    rows = doc["rows"]
    lines = ["# Replication of every reported bespoke figure", "",
             f"Command: `{doc['command']}`  ",
             f"Runtime: {doc['runtime_s']:.0f} s on {doc['device_banner']}; seeds "
             f"{doc['seeds'][0]}-{doc['seeds'][-1]} ({len(doc['seeds'])}; fewer where a preset's "
             f"plan says so, see the runtime table).  ",
             f"Tally: {tally_line(rows)}.", "",
             HOW + rules_markdown(), "",
             "Columns: *measured* is the original's estimator over our seeds (center [95% "
             "interval]); *one draw* is where a single unseeded run of the original's estimator "
             "falls (95%); *number; claim* say what holds of the figure and of what the original "
             "concluded from it.", "",
             "## Figures", "", markdown_table(rows), "",
             "## Final losses of every run, next to the floors", "",
             "Faithful = the original's own estimator; low-noise = every window of the held-out "
             "(or, without a split, the whole) segment.", "",
             report.md_table(["run", "model", "faithful", "low-noise", "floor", "floor kind",
                              "baseline", "entropy H", "steps run/full"], doc["final_losses"]),
             "", "## Runtime per preset", "",
             "Shortened runs keep the full run's per-step learning rate; the full-run estimate "
             "is (seconds per step, all models, all seeds together) x (full steps) on this "
             "machine, under whatever else it was running.", ""]
    tt = []
    for k, t in doc["timing"].items():
        est = t["full_run_estimate_s"]
        tt.append([k, t["seeds"], f"{t['steps_run']:,}/{t['full_steps']:,}",
                   "yes" if t["shortened"] else "no", f"{(t['wall_s'] or 0):.0f}",
                   "-" if est is None else f"{est / 3600:.1f} h",
                   ", ".join(f"{m}: {'n/a' if v is None else f'{v * 1000:.0f} ms'}"
                             for m, v in t["s_per_step"].items())])
    lines.append(report.md_table(["preset", "seeds", "steps run/full", "shortened", "wall s",
                                  "full run estimate", "per step (all seeds together)"], tt))
    lines += ["", "Plots: " + ", ".join(f"`{p}`" for p in doc["plots"]), ""]
    return "\n".join(lines)


def plots(out_dir: Path, R: dict, rows: list[dict]) -> list[str]:
    made = []
    for key in ("definitive", "medium", "long"):
        if key not in R or not R[key].get("curves"):
            continue
        res = R[key]
        spe = res["steps_per_epoch"]
        curves = {lab: ((np.asarray(c["epochs"]) + 1) * spe, c["values"])
                  for lab, c in res["curves"].items()}
        fl = res["floor"]
        h = {f"entropy H = {fl['entropy']:.3f}": fl["entropy"]}
        if "copy_floor" in fl:
            h[f"copy floor H/T = {fl['copy_floor']:.3f}"] = fl["copy_floor"]
        if "bag_floor" in fl:
            h[f"bag floor = {fl['bag_floor']:.3f}"] = fl["bag_floor"]
        if key == "definitive":   # reported at epoch 600 of 700, i.e. step 300,000: off this axis
            h["reported ~0.151 (standard, at step 300,000)"] = 0.151
        path = Path(out_dir) / f"replication_{key}.png"
        report.plot_curves(path, curves, xlabel="training step",
                           ylabel="validation loss (all windows)",
                           title=f"{key}: unmasked (original) vs causal control, "
                                 f"{res['steps']:,} of {res['full_steps']:,} steps, "
                                 f"{len(res['seeds'])} seeds", hlines=h)
        made.append(path.name)
    ratio_rows = [r for r in rows if r["metric"] == "loss ratio bespoke/standard"
                  and r["measured"] is not None]
    if ratio_rows:
        plt = report._plt()
        fig, ax = plt.subplots(figsize=(9, 4.4))
        for i, r in enumerate(ratio_rows):
            v = np.asarray(r["measured"]["values"])
            ax.scatter([i] * v.size, v, s=10, color="C0", alpha=0.6,
                       label="ours, the original's estimator (per seed)" if i == 0 else None)
            if r["single_draw"] and r["single_draw"]["interval"]:
                lo, hi = r["single_draw"]["interval"]
                ax.vlines(i + 0.2, lo, hi, color="C2", lw=3, alpha=0.6,
                          label="95%: one draw of it" if i == 0 else None)
            ax.scatter([i - 0.2], [r["judged_value"]], marker="x", s=60, color="C3",
                       label="reported (one draw)" if i == 0 else None)
        ax.axhline(1, color="k", lw=0.8, ls="--")
        ax.set_yscale("log")
        ax.set_xticks(range(len(ratio_rows)), [r["key"].rsplit(".", 1)[0]
                                               for r in ratio_rows], rotation=20)
        ax.set_ylabel("bespoke / standard loss")
        ax.legend(fontsize=8)
        path = Path(out_dir) / "replication_ratios.png"
        report.save(fig, path)
        made.append(path.name)
    return made
