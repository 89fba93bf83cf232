#!/usr/bin/env python
"""Replicate every reported bespoke figure: one row per figure, measured over seeds, with a verdict.

Runs the presets of jaxbespoke.presets (or a chosen subset) and the 50-epoch pooled protocol, then
writes replication.json (rows, timing), REPLICATION.md and plots. Spec: shared/spec
bespoke_experiments.md sections 1-12.
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from jaxbespoke import cli, device, parallel, report, stats  # noqa: E402
from jaxbespoke.errors import ConfigError  # noqa: E402

NAME = "replicate"
DEFAULT = ("focused", "scaling", "initial", "optimized", "ultra", "quick", "debug", "medium",
           "definitive")
ALL = DEFAULT + ("long", "btdt")
PARAMS_ONLY = ("long", "btdt")   # not trained unless named: minutes per step-hundred on a CPU
CORRECTED = {"next_all": "val_full", "working": "heldout", "scaling": "all_windows",
             "first_token": "all_windows", "random_target": "all_windows",
             "mode_uniform": "fresh_4096"}
SRC_STATUS = "README; RESEARCH_CORRECTION; EXPERIMENT_STATUS"
SRC_TABLES = "BESPOKE_RESEARCH; EXPERIMENTAL_RESULTS"
SRC_SPEC = "spec (instantiated original modules)"


# --------------------------------------------------------------------------- running
def run_focused(seeds, quick, progress):
    from jaxbespoke import protocol

    cfg = protocol.PooledConfig(epochs=5, steps_per_epoch=10, eval_every=2) if quick else \
        protocol.PooledConfig()
    t0 = time.perf_counter()
    out = protocol.run_pooled(cfg, seeds, progress=progress)
    fl = protocol.floor(cfg)
    res = {"final": {}, "corrected": {}, "params": {}, "curves": {}, "short": quick,
           "steps": cfg.epochs * cfg.steps_per_epoch, "full_steps": 2500, "seeds": list(seeds),
           "floor": {"entropy": fl["entropy"], "floor": fl["entropy"]}, "timing": {}}
    for kind, m in out["models"].items():
        h = m["history"]
        res["final"][kind] = h["val_original"][:, -1]
        res["corrected"][kind] = h["val_full"][:, -1]
        res["params"][kind] = np.full(len(seeds), m["params"])
        res["timing"][kind] = dict(out["timing"][kind], s_per_step=out["timing"][kind]["run_s"]
                                   / (cfg.epochs * cfg.steps_per_epoch))
    res["wall_s"] = time.perf_counter() - t0
    return res


def run_preset(name, seeds, quick, progress, ckpt_dir, ckpt_every):
    from jaxbespoke import presets

    pl = presets.plan(name)
    if pl.max_seeds and not quick:
        seeds = seeds[:pl.max_seeds]
    short = pl.quick_short if quick else pl.short
    t0 = time.perf_counter()
    subs = {}
    for run in presets.get(name):
        merged = None
        for variants, kinds in pl.groups:
            out = presets.run_config(run, seeds, variants=variants, kinds=kinds, short=short,
                                     progress=progress, ckpt_dir=ckpt_dir, ckpt_every=ckpt_every)
            if merged is None:
                merged = out
            else:
                merged["models"].update(out["models"])
        fl = presets.floors(run)
        key = CORRECTED[run.task]
        m = merged["models"]
        res = {"final": {}, "corrected": {}, "params": {}, "curves": {}, "timing": {},
               "short": merged["short"], "steps": merged["steps"], "full_steps": run.steps,
               "seeds": list(seeds), "floor": fl, "tier_sizes": merged["tier_sizes"],
               "compare": run.compare, "steps_per_epoch": short.steps_per_epoch if short and
               run.final == "val_original" else run.steps_per_epoch, "leak": run.leak}
        for mk, v in m.items():
            kind, variant = mk.split("/")
            label = kind if variant == "faithful" else f"{kind}/{variant}"
            res["final"][label] = v["final"]
            res["corrected"][label] = v["metrics"][key]
            res["params"][label] = np.asarray(v["params_embedding"] if run.compare == "embedding"
                                              else v["params_total"])
            res["curves"][label] = {"epochs": v["eval_epochs"],
                                    "values": v["curves"].get(key, v["curves"]["train_loss"])}
            res["timing"][label] = v["timing"]
        subs[run.name] = res
    wall = time.perf_counter() - t0
    for r in subs.values():
        r["wall_s"] = wall / len(subs)
    return subs


def params_only(name, seeds):
    """A preset's exact parameter counts from the first seed's tiers, without training."""
    import jax
    from flax import nnx

    from jaxbespoke import presets
    from jaxbespoke.embeddings import param_count

    run = presets.get(name)[-1]
    _, tl = presets.build_data(run, seeds[:1])
    t = tl[0]
    out = {}
    for kind in ("standard", "bespoke"):
        m = nnx.eval_shape(lambda: presets.make_model(run, kind, jax.random.key(0), t.tier_V,
                                                      t.rows_V(), presets.capacities(run, tl)))
        out[kind] = np.array([param_count(m)])
    return {"params": out, "params_only": True}


# --------------------------------------------------------------------------- rows
def summary(values):
    v = np.asarray(values, np.float64).ravel()
    s = stats.mean_ci(v) if v.size > 1 else {"mean": float(v.mean()), "ci95": [None, None]}
    return {"mean": s["mean"], "ci95": s["ci95"], "values": v.tolist()}


def pi(values):
    v = np.asarray(values, np.float64)
    return stats.prediction_interval(v) if v.size > 2 else [float(v.min()), float(v.max())]


def f4(x):
    return "n/a" if x is None or (isinstance(x, float) and not math.isfinite(x)) else f"{x:.4g}"


def row(exp, figure, source, reported, values, verdict, explanation, floor=None, res=None,
        metric=None):
    return {"experiment": exp, "figure": figure, "source": source, "reported": reported,
            "measured": None if values is None else summary(values), "torch": None,
            "floor": floor, "verdict": verdict, "explanation": explanation, "metric": metric,
            "shortened": bool(res and res.get("short")),
            "steps": None if res is None else [res.get("steps"), res.get("full_steps")]}


def exact_row(exp, figure, source, reported, values, res=None):
    v = np.asarray(values)
    if np.all(v == reported):
        verdict, why = "replicated", f"every seed's model has exactly {reported:,}"
    elif v.min() <= reported <= v.max():
        verdict, why = "within noise", (f"depends on the unseeded corpus's tier sizes: our seeds "
                                        f"give {int(v.min()):,}-{int(v.max()):,}")
    else:
        verdict, why = "not replicated", f"our models have {int(v.min()):,}-{int(v.max()):,}"
    return row(exp, figure, source, reported, v, verdict, why, res=res, metric="parameters")


def ratio_row(exp, figure, source, reported, num, den, res=None, digits=3):
    r = np.round(np.asarray(num, float) / np.asarray(den, float), 6)
    rounded = np.round(r, digits)
    if np.all(rounded == reported):
        verdict, why = "replicated", f"{r.mean():.4f} rounds to {reported}"
    elif rounded.min() <= reported <= rounded.max():
        verdict, why = "within noise", f"ranges {r.min():.3f}-{r.max():.3f} with the tier sizes"
    else:
        verdict, why = "not replicated", f"ours {r.min():.3f}-{r.max():.3f}"
    return row(exp, figure, source, reported, r, verdict, why, res=res, metric="parameter ratio")


def loss_row(exp, figure, source, reported, res, kind, artefact=None, metric_name=""):
    v = res["final"][kind]
    fl = res["floor"]["floor"]
    lo, hi = pi(v)
    corr = summary(res["corrected"][kind])
    inside = lo <= reported <= hi
    base = (f"one draw of our faithful estimator falls in [{lo:.3f}, {hi:.3f}] (95% PI); "
            f"low-noise metric {corr['mean']:.3f}; floor {fl:.3f}")
    if artefact and inside:
        verdict, why = "artefact", f"{artefact}; {base}"
    elif inside:
        verdict, why = "within noise", base
    else:
        verdict, why = "not replicated", base + (f"; {artefact}" if artefact else "")
    if res.get("short"):
        why += f" (shortened: {res['steps']:,} of {res['full_steps']:,} steps)"
    return row(exp, figure, source, reported, v, verdict, why, floor=fl, res=res,
               metric=metric_name or "faithful final loss")


def claim_row(exp, figure, source, reported, res, artefact=None):
    """A reported bespoke/standard loss ratio vs ours, and whether the claimed direction holds on
    the low-noise metric (paired over seeds: same corpus, tiers and batches)."""
    r = np.asarray(res["final"]["bespoke"], float) / np.asarray(res["final"]["standard"], float)
    lo, hi = pi(r)
    d = stats.paired_difference(res["corrected"]["standard"], res["corrected"]["bespoke"])
    dl, dh = d["ci95"]
    direction = ("bespoke better" if dh < 0 else "bespoke worse" if dl > 0 else "no difference")
    claimed = "bespoke better" if reported < 1 else "bespoke worse"
    inside = lo <= reported <= hi
    base = (f"our single-draw ratios fall in [{lo:.3f}, {hi:.3f}] (95% PI); low-noise paired "
            f"difference bespoke-standard {d['mean']:+.3f} [{dl:+.3f}, {dh:+.3f}] ({direction})")
    if artefact and inside:
        verdict = "artefact"
        base = f"{artefact}; {base}"
    elif direction == claimed:
        verdict = "replicated" if inside else "not replicated"
        if not inside:
            base += "; direction holds but the size does not"
    elif inside:
        verdict = "within noise"
    else:
        verdict = "not replicated"
    if res.get("short"):
        base += f" (shortened: {res['steps']:,} of {res['full_steps']:,} steps)"
    return row(exp, figure, source, reported, r, verdict, base, res=res, metric="loss ratio")


def build_rows(R):
    rows = []
    if "focused" in R:
        f = R["focused"]
        below = ("the reported value is below the entropy floor: possible only by the sampling "
                 "noise of its 80 validation targets")
        rows.append(loss_row("focused", "standard final val loss 2.9091", SRC_STATUS, 2.9091, f,
                             "standard"))
        rows.append(loss_row("focused", "bespoke final val loss 2.9251", SRC_STATUS, 2.9251, f,
                             "bespoke"))
        rows[-2]["explanation"] += f"; {below}"
        rows[-1]["explanation"] += f"; {below}"
        rows.append(claim_row("focused", "bespoke 0.6% worse (ratio 1.0055)", SRC_STATUS, 1.0055, f))
        rows.append(exact_row("focused", "standard parameters", SRC_STATUS, 25_800,
                              f["params"]["standard"], f))
        rows.append(exact_row("focused", "bespoke parameters", SRC_STATUS, 63_944,
                              f["params"]["bespoke"], f))
        rows.append(ratio_row("focused", "parameter ratio 2.48x (+148%)", SRC_STATUS, 2.48,
                              f["params"]["bespoke"], f["params"]["standard"], f, digits=2))
    sc_rep = {"scaling_1k": (3.85, 3.81, 0.989), "scaling_5k": (4.67, 0.87, 0.186),
              "scaling_20k": (3.62, 0.15, 0.042), "scaling_50k": (2.42, 0.87, 0.358)}
    art_sc = ("a degenerate task (target = window mode, token 0 in ~96% of windows, label "
              "entropy {le:.3f}) scored on ONE training batch after 5-20 steps: the ratio "
              "measures early training speed, not language modelling")
    for key, (s, b, r) in sc_rep.items():
        if key not in R:
            continue
        res = R[key]
        art = art_sc.format(le=res["floor"]["label_entropy"])
        size = key.split("_")[1].upper()
        rows.append(loss_row("scaling", f"{size} standard loss {s}", SRC_TABLES, s, res,
                             "standard", metric_name="last training batch loss"))
        rows.append(loss_row("scaling", f"{size} bespoke loss {b}", SRC_TABLES, b, res, "bespoke",
                             metric_name="last training batch loss"))
        label = f"{size} ratio {r}" + (' ("24x better")' if key == "scaling_20k" else "")
        rows.append(claim_row("scaling", label, SRC_TABLES, r, res, artefact=art))
    if "scaling_20k" in R:
        res = R["scaling_20k"]
        rows.append(exact_row("scaling", "standard parameters", SRC_SPEC, 51_656,
                              res["params"]["standard"], res))
        rows.append(exact_row("scaling", "bespoke parameters", SRC_SPEC, 135_624,
                              res["params"]["bespoke"], res))
        rows.append(ratio_row("scaling", "parameter ratio 2.626x", SRC_SPEC, 2.626,
                              res["params"]["bespoke"], res["params"]["standard"], res))
        # printed split of the bespoke embedding's parameters: tables + projections per tier
        V, D = 200, 128
        per = np.array([V * 224 + 224 * D, V * 128, V * 32 + 32 * D], float)
        share = np.round(100 * per / per.sum(), 1)
        rows.append(row("scaling", 'printed split "67.1% high, 23.4% mid, 9.6% low"', SRC_TABLES,
                        "67.1/23.4/9.6", None,
                        "replicated" if tuple(share) == (67.1, 23.4, 9.6) else "not replicated",
                        f"parameter shares of the three full-vocab tiers: {share.tolist()}; a "
                        "share of parameters, not of tokens: the mid table is never used by an "
                        "occurring token", metric="parameter share"))
    if "initial" in R:
        res = R["initial"]
        bag = (f"mean TRAINING loss over the last epoch of 3 passes over the same 10 batches; "
               f"no mask and no positions (bag leak floor {res['floor']['bag_floor']:.3f})")
        rows.append(loss_row("initial", "standard loss 3.2157", SRC_TABLES, 3.2157, res,
                             "standard", metric_name="last-epoch training loss"))
        rows.append(loss_row("initial", "bespoke loss 3.0796", SRC_TABLES, 3.0796, res, "bespoke",
                             metric_name="last-epoch training loss"))
        rows[-1]["explanation"] += f"; {bag}"
        rows.append(claim_row("initial", 'ratio 0.958 ("4.2% better")', SRC_TABLES, 0.958, res))
        rows.append(exact_row("initial", "standard parameters", SRC_TABLES, 46_372,
                              res["params"]["standard"], res))
        rows.append(exact_row("initial", "bespoke parameters", SRC_TABLES, 67_492,
                              res["params"]["bespoke"], res))
        rows.append(ratio_row("initial", "parameter ratio 1.455x", SRC_TABLES, 1.455,
                              res["params"]["bespoke"], res["params"]["standard"], res))
    for exp, figs in (("optimized", (48_812, 1.907, 4.39, 3.85, 0.876)),
                      ("ultra", (30_464, 1.190, 4.28, 4.67, 1.090))):
        if exp not in R:
            continue
        res = R[exp]
        pb, pr, s, b, r = figs
        one = "the last single training step's loss (8 targets, SE ~0.64 nats)"
        rows.append(exact_row(exp, "bespoke embedding parameters", SRC_TABLES, pb,
                              res["params"]["bespoke"], res))
        rows.append(exact_row(exp, "standard embedding parameters", SRC_TABLES, 25_600,
                              res["params"]["standard"], res))
        rows.append(ratio_row(exp, f"parameter ratio {pr}x", SRC_TABLES, pr,
                              res["params"]["bespoke"], res["params"]["standard"], res))
        rows.append(loss_row(exp, f"standard loss {s}", SRC_TABLES, s, res, "standard",
                             metric_name="last training step loss"))
        rows.append(loss_row(exp, f"bespoke loss {b}", SRC_TABLES, b, res, "bespoke",
                             metric_name="last training step loss"))
        rows.append(claim_row(exp, f"loss ratio {r}", SRC_TABLES, r, res))
        rows[-1]["explanation"] = (
            f"{one}; the target (the window's first token) is independent of the input, so both "
            f"models can at best learn the unigram (floor H = {res['floor']['entropy']:.3f}): the "
            f"gap is how far each still is from it after {res['steps']} steps, not a better "
            f"representation; " + rows[-1]["explanation"])
    if "definitive" in R:
        res = R["definitive"]
        fl = res["floor"]
        v = res["final"]["standard"]
        c = res["final"]["standard/causal"]
        leak = float(np.mean(v)) < fl["entropy"] / 2
        causal_ok = float(np.mean(c)) > fl["entropy"] - 0.1
        verdict = "artefact" if leak and causal_ok else "not replicated"
        why = (f"no attention mask: positions copy their target, floor H/T = {fl['copy_floor']:.3f} "
               f"(H = {fl['entropy']:.3f}); after {res['steps']:,} of {res['full_steps']:,} steps "
               f"the unmasked model is at {np.mean(v):.3f} and still falling, the causal-mask "
               f"control at {np.mean(c):.3f} (>= H). ~0.151 sits just above H/T: copying, "
               f"not learning")
        rows.append(row("definitive", "standard val loss ~0.151 at 600/700 epochs", "README", 0.151,
                        v, verdict, why, floor=fl["copy_floor"], res=res,
                        metric="validation loss (original sample), unmasked"))
        rows.append(row("definitive", "causal-mask control (not in the original)", "this project",
                        None, c, "replicated" if causal_ok else "not replicated",
                        f"with the mask the loss stays at the entropy H = {fl['entropy']:.3f}",
                        floor=fl["entropy"], res=res, metric="validation loss, causal"))
        rows.append(exact_row("definitive", "standard parameters", SRC_SPEC, 1_054_440,
                              res["params"]["standard"], res))
        rows.append(exact_row("definitive", "bespoke parameters", SRC_SPEC, 1_081_780,
                              res["params"]["bespoke"], res))
        r = np.asarray(res["params"]["bespoke"]) / np.asarray(res["params"]["standard"])
        rows.append(row("definitive", '"Parameter Overhead: 2.48x" shown next to it', "README",
                        2.48, r, "not replicated" if np.all(np.abs(r - 2.48) > 0.01) else
                        "replicated", f"the definitive models' ratio is {r.mean():.3f}; 2.48x is "
                        "the 50-epoch pooled model's", res=res, metric="parameter ratio"))
    for exp, std, bes in (("medium", 260_980, None), ("long", 5_268_456, None),
                          ("quick", 12_900, 34_020), ("debug", 1_600, 5_312),
                          ("btdt", 731_264, 929_024)):
        res = R.get(exp) or R.get(f"{exp}_20k")
        if res is None:
            continue
        what = "embedding parameters" if res.get("compare") == "embedding" else "parameters"
        rows.append(exact_row(exp, f"standard {what}", SRC_SPEC, std, res["params"]["standard"],
                              res))
        if bes:
            rows.append(exact_row(exp, f"bespoke {what}", SRC_SPEC, bes, res["params"]["bespoke"],
                                  res))
    if "medium" in R:
        p = np.asarray(R["medium"]["params"]["bespoke"])
        ok = np.all((p >= 265_200) & (p <= 265_460))
        rows.append(row("medium", "bespoke parameters 265,200-265,460 (1.016-1.017x)", SRC_SPEC,
                        "265,200-265,460", p, "replicated" if ok else "not replicated",
                        "depends on the corpus's tier sizes", res=R["medium"],
                        metric="parameters"))
    rows += stats_rows(R, rows)
    return rows


def stats_rows(R, rows):
    """Spec 12: the summary tables' statistics, recomputed from the reported numbers, against
    statistics computed from our seeds."""
    out = []
    rep7 = {"scaling 1K": 0.989, "scaling 5K": 0.186, "scaling 20K": 0.042, "scaling 50K": 0.358,
            "initial": 0.958, "optimized": 0.876, "ultra": 1.090}
    vals = list(rep7.values())
    keys = {"scaling 1K": "scaling_1k", "scaling 5K": "scaling_5k", "scaling 20K": "scaling_20k",
            "scaling 50K": "scaling_50k", "initial": "initial", "optimized": "optimized",
            "ultra": "ultra"}
    have = {k: R[v] for k, v in keys.items() if v in R}
    tests = {k: stats.paired_difference(r["corrected"]["standard"], r["corrected"]["bespoke"])
             for k, r in have.items()}
    ptxt = "; ".join(f"{k}: p={t['p_value']:.2g}, d_z={t['cohens_dz']:+.2f}"
                     for k, t in tests.items()) or "no experiments run"
    n_p = sum(1 for t in tests.values() if t["p_value"] < 0.001 and t["mean"] < 0)
    out.append(row("statistics", '"p < 0.001"', SRC_TABLES, "p < 0.001", None,
                   "not replicated", "no test was computed in the original. Paired t-tests "
                   f"(bespoke - standard, low-noise metric, over our seeds): {ptxt}. "
                   f"{n_p} of {len(tests)} show bespoke better at p < 0.001",
                   metric="paired t-test"))
    out.append(row("statistics", "\"Cohen's d > 0.8\"", SRC_TABLES, "d > 0.8",
                   [t["cohens_dz"] for t in tests.values()] or None, "not replicated",
                   "no effect size was computed; measured d_z per experiment are the values "
                   "(negative = bespoke better)", metric="Cohen's d_z"))
    mean = float(np.mean(vals[:4]))
    ratio_ci = {k: stats.mean_ci(np.asarray(r["final"]["bespoke"]) / np.asarray(r["final"]["standard"]))
                for k, r in have.items()}
    ours = "; ".join(f"{k}: {c['mean']:.3f} [{c['ci95'][0]:.3f}, {c['ci95'][1]:.3f}]"
                     for k, c in ratio_ci.items())
    out.append(row("statistics", '"95% CI [0.042, 0.989]", mean 0.394', SRC_TABLES,
                   "[0.042, 0.989], 0.394", None, "not replicated",
                   f"recomputed from the reported rows: min-max [{min(vals[:4]):.3f}, "
                   f"{max(vals[:4]):.3f}] and mean {mean:.3f} of the 4 scaling ratios, i.e. a "
                   f"range of single draws, not a confidence interval. Real 95% CIs of the mean "
                   f"ratio over our seeds: {ours}", metric="confidence interval"))
    pr = [1.907, 1.190, 1.455]
    out.append(row("statistics", 'parameter "CI [1.190, 1.907]", mean 1.517', SRC_TABLES,
                   "[1.190, 1.907], 1.517", None, "not replicated",
                   f"min-max [{min(pr)}, {max(pr)}] and mean {np.mean(pr):.3f} of three "
                   "different models' parameter ratios: not an interval estimate of anything",
                   metric="confidence interval"))
    inv = float(np.mean([1 / v for v in vals]))
    ours_inv = {k: float(np.mean(np.asarray(r["final"]["standard"]) /
                                 np.asarray(r["final"]["bespoke"]))) for k, r in have.items()}
    out.append(row("statistics", '"Average improvement 5.2x"', SRC_TABLES, 5.2,
                   list(ours_inv.values()) or None, "not replicated",
                   f"the mean of 1/ratio over the 7 reported rows is {inv:.2f}, dominated by the "
                   f"20K scaling draw (1/0.042 = 23.8); ours per experiment (standard/bespoke "
                   f"of the faithful estimator): " + "; ".join(f"{k} {v:.2f}"
                                                               for k, v in ours_inv.items()),
                   metric="mean of 1/ratio"))
    better = [k for k, t in tests.items() if t["ci95"][1] < 0]
    out.append(row("statistics", '"100% of tests show bespoke superiority"', SRC_TABLES, "100%",
                   None, "not replicated",
                   "contradicted by ultra's reported 1.090 in the same table; on our low-noise "
                   f"metric bespoke is better (CI below 0) in {len(better)} of {len(tests)}: "
                   f"{', '.join(better) or 'none'}", metric="count"))
    return out


# --------------------------------------------------------------------------- output
def unreported(R):
    """Presets without reported losses: our final losses next to their floors."""
    lines = []
    for key, res in R.items():
        fl = res["floor"]
        for label, v in res["final"].items():
            s = summary(v)
            c = summary(res["corrected"][label])
            lines.append([key, label, report.fmt_ci(s, 3) if len(s["values"]) > 1 else
                          f"{s['mean']:.3f}", report.fmt_ci(c, 3) if len(c["values"]) > 1 else
                          f"{c['mean']:.3f}", f"{fl['floor']:.3f}", f"{fl['entropy']:.3f}",
                          f"{res['steps']:,}/{res['full_steps']:,}"])
    return lines


def timing(R):
    out = {}
    for key, res in R.items():
        t = res["timing"]
        # per step over all processes that trained it (a checkpoint restored from an earlier
        # process counts that process's time; None where an old checkpoint did not record it)
        per = {k: v.get("s_per_step_total", v.get("s_per_step")) for k, v in t.items()}
        run_s = sum(v.get("run_s", 0) for v in t.values())
        steps = res["full_steps"]
        known = [v for v in per.values() if v is not None]
        full = (float(np.sum(known) * steps) if res["short"] and known and len(known) == len(per)
                else None)
        out[key] = {"wall_s": res.get("wall_s"), "train_s": run_s,
                    "compile_s": sum(v.get("compile_s", 0) for v in t.values()),
                    "s_per_step": per, "steps_run": res["steps"], "full_steps": steps,
                    "shortened": res["short"], "seeds": len(res["seeds"]),
                    "full_run_estimate_s": full,
                    "resumed_from_epoch": {k: v.get("resumed_from_epoch") for k, v in t.items()}}
    return out


def plots(out_dir, R):
    from jaxbespoke.report import plot_curves

    made = []
    for key in ("definitive", "medium", "long"):
        if key not in R or not R[key]["curves"]:
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
        pts = None
        path = Path(out_dir) / f"replication_{key}.png"
        plot_curves(path, curves, xlabel="training step", ylabel="validation loss (all windows)",
                    title=f"{key}: unmasked (original) vs causal control, "
                          f"{res['steps']:,} of {res['full_steps']:,} steps",
                    hlines=h, points=pts)
        made.append(path.name)
    ratio_rows = [k for k in ("scaling_1k", "scaling_5k", "scaling_20k", "scaling_50k", "initial",
                              "optimized", "ultra", "focused") if k in R]
    if ratio_rows:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        rep = {"scaling_1k": 0.989, "scaling_5k": 0.186, "scaling_20k": 0.042,
               "scaling_50k": 0.358, "initial": 0.958, "optimized": 0.876, "ultra": 1.090,
               "focused": 1.0055}
        fig, ax = plt.subplots(figsize=(8, 4.2))
        for i, k in enumerate(ratio_rows):
            r = np.asarray(R[k]["final"]["bespoke"]) / np.asarray(R[k]["final"]["standard"])
            c = np.asarray(R[k]["corrected"]["bespoke"]) / np.asarray(R[k]["corrected"]["standard"])
            ax.scatter([i - 0.15] * r.size, r, s=10, color="C0", alpha=0.6,
                       label="ours, faithful estimator (per seed)" if i == 0 else None)
            ax.scatter([i + 0.15] * c.size, c, s=10, color="C2", alpha=0.6,
                       label="ours, low-noise metric (per seed)" if i == 0 else None)
            ax.scatter([i], [rep[k]], marker="x", s=60, color="C3",
                       label="reported (one draw)" if i == 0 else None)
        ax.axhline(1, color="k", lw=0.8, ls="--")
        ax.set_yscale("log")
        ax.set_xticks(range(len(ratio_rows)), ratio_rows, rotation=20)
        ax.set_ylabel("bespoke / standard loss")
        ax.legend(fontsize=8)
        fig.tight_layout()
        path = Path(out_dir) / "replication_ratios.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        made.append(path.name)
    return made


def markdown(doc):
    rows = doc["rows"]
    lines = ["# Replication of every reported bespoke figure", "",
             f"Command: `{doc['command']}`  ", f"Runtime: {doc['runtime_s']:.0f} s on "
             f"{doc['device_banner']}; seeds {doc['seeds']} (fewer where the plan says so, see "
             f"timing).  ", "Verdicts: *replicated* (the figure holds), *within noise* (the "
             "figure is one plausible draw of a noisy estimator, the claim it carried is not "
             "supported), *artefact* (reproducible, but produced by a flaw of the protocol), "
             "*not replicated*. `torch` is empty: no PyTorch training reference was run for these "
             "rows (parity covers the modules, not the runs).", "",
             "## Figures", ""]
    tab = []
    for r in rows:
        m = r["measured"]
        if m is None:
            meas = "-"
        elif m["ci95"][0] is None:
            meas = f"{m['mean']:.4g} (n=1)"
        else:
            meas = f"{m['mean']:.4g} [{m['ci95'][0]:.4g}, {m['ci95'][1]:.4g}] (n={len(m['values'])})"
        tab.append([r["experiment"], r["figure"], r["source"], r["reported"], meas,
                    "-" if r["floor"] is None else f"{r['floor']:.3f}",
                    f"**{r['verdict']}**" + (" (short)" if r["shortened"] else ""),
                    r["explanation"]])
    lines.append(report.md_table(["experiment", "figure", "source", "reported",
                                  "measured mean [95% CI]", "floor", "verdict", "explanation"],
                                 tab))
    lines += ["", "## Final losses of every run, next to the floors", "",
              "Faithful = the original's own estimator; low-noise = every window of the held-out "
              "(or, without a split, the whole) segment.", "",
              report.md_table(["run", "model", "faithful [95% CI]", "low-noise [95% CI]",
                               "floor", "entropy H", "steps run/full"], doc["final_losses"]),
              "", "## Runtime per preset", "",
              "Shortened runs keep the full run's per-step learning rate; the full-run estimate "
              "is (seconds per step, all models, all seeds together) x (full steps) on this "
              "machine, under whatever else it was running. n/a: restored from a checkpoint "
              "whose training time was not recorded.", ""]
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


def parse(argv=None):
    p = cli.parser(NAME, __doc__.splitlines()[0], default_seeds=8)
    p.add_argument("--presets", default=",".join(DEFAULT),
                   help=f"comma-separated subset of: {', '.join(ALL)}")
    p.add_argument("--ckpt-every", type=cli.positive_int, default=5,
                   help="epochs between checkpoints of the long presets")
    return p.parse_args(argv)


def main(argv=None):
    args = parse(argv)
    names = [n.strip() for n in args.presets.split(",") if n.strip()]
    bad = [n for n in names if n not in ALL]
    if bad or not names:
        raise ConfigError(f"unknown preset {bad[0] if bad else '(none)'!r}; valid presets: "
                          f"{', '.join(ALL)}")
    info = device.setup(args)
    print(device.banner(info), flush=True)
    out_dir = args.out or Path("results") / NAME
    out_dir.mkdir(parents=True, exist_ok=True)
    seeds = list(range(args.seed_base, args.seed_base + (2 if args.quick else args.seeds)))
    t0 = time.perf_counter()
    R, P = {}, {}
    for n in names:
        print(f"== {n}", flush=True)
        if n == "focused":
            R["focused"] = run_focused(seeds, args.quick, not args.no_progress)
        else:
            R.update(run_preset(n, seeds, args.quick, not args.no_progress,
                                None if args.quick else str(Path(out_dir).resolve() / "ckpt"),
                                args.ckpt_every))
    for n in PARAMS_ONLY:
        if not any(k == n or k.startswith(n + "_") for k in R):
            P[n] = params_only(n, seeds)
    rows = build_rows({**R, **P})
    runtime = time.perf_counter() - t0
    doc = {"command": "python experiments/replicate.py " + " ".join(
               sys.argv[1:] if argv is None else argv),
           "device": info, "device_banner": device.banner(info), "seeds": seeds,
           "runtime_s": runtime, "rows": rows, "timing": timing(R),
           "final_losses": unreported(R)}
    doc["plots"] = plots(out_dir, R) if parallel.is_writer() else []
    report.write_json(out_dir / "replication.json", doc)
    report.write_atomic(out_dir / "REPLICATION.md", markdown(doc))
    counts = {}
    for r in rows:
        counts[r["verdict"]] = counts.get(r["verdict"], 0) + 1
    print(f"{len(rows)} rows: {counts}; wrote {out_dir}/REPLICATION.md in {runtime:.0f} s")
    return 0


if __name__ == "__main__":
    cli.run_main(main)
