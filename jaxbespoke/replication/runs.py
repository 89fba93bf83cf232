"""Run the original experiments for the replication report: per-seed results in one layout.

Each run returns a dict with, per model label ('standard', 'bespoke', 'bespoke/unpaired',
'standard/causal', ...): `final` (the original's own estimator per seed), `corrected` (a
low-noise metric per seed: every window of a held-out or the whole segment), `params` (exact
counts per seed) and `curves`; plus the floor, whether the run was shortened, steps and timing.
'bespoke/unpaired' is the bespoke model trained on its own batch stream, as the original did;
the other labels share each seed's batches (paired).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from jaxbespoke.protocols import floors
from jaxbespoke.utils.errors import TrainingDiverged


def run_focused(seeds: list[int], cfg=None, *, progress: bool = True) -> dict:
    """The 50-epoch comparison: both models paired (same batches and validation targets), plus
    the bespoke model on its own stream (the original's unpaired design)."""
    from jaxbespoke.protocols import protocol

    cfg = cfg or protocol.PooledConfig()
    t0 = time.perf_counter()
    paired = protocol.run_pooled(cfg, seeds, progress=progress)
    try:
        unpaired = protocol.run_pooled(cfg, seeds, progress=progress, kinds=("bespoke",),
                                       streams="unpaired")
    except TrainingDiverged as e:  # keep the paired models, which finished
        e.completed = {"models": paired["models"], "timing": paired["timing"]}
        raise
    steps = cfg.epochs * cfg.steps_per_epoch
    res = {"final": {}, "corrected": {}, "oracle": {}, "params": {}, "curves": {},
           "timing": {}, "short": False, "steps": steps, "full_steps": 2500,
           "seeds": list(seeds), "floor": floors.pooled_floor(cfg),
           "tiers": paired["tiers"], "config": protocol.config_dict(cfg)}
    for label, run, kind in (("standard", paired, "standard"), ("bespoke", paired, "bespoke"),
                             ("bespoke/unpaired", unpaired, "bespoke")):
        m = run["models"][kind]
        h = m["history"]
        res["final"][label] = np.asarray(h["val_original"][:, -1])
        res["corrected"][label] = np.asarray(h["val_full"][:, -1])
        res["oracle"][label] = {"original": np.asarray(h["oracle_original"][:, -1]),
                                "full": np.asarray(h["oracle_full"][:, -1])}
        res["params"][label] = np.full(len(seeds), m["params"])
        res["curves"][label] = {"epochs": m["eval_epochs"],
                                "values": {k: np.asarray(v) for k, v in h.items()}}
        t = run["timing"][kind]
        res["timing"][label] = dict(t, s_per_step=t["run_s"] / steps)
    res["wall_s"] = time.perf_counter() - t0
    return res


def run_preset(name: str, seeds: list[int], *, quick: bool = False, progress: bool = True,
               ckpt_dir: str | None = None, ckpt_every: int = 5) -> dict[str, dict]:
    """Every configuration of a preset (scaling has four corpus sizes), as its plan says:
    which variants and kinds, shortened how, with an unpaired bespoke run where the original's
    figure was an unpaired ratio. Returns {config name: results}."""
    from jaxbespoke.protocols import presets

    pl = presets.plan(name)
    if pl.max_seeds and not quick:
        seeds = seeds[:pl.max_seeds]
    short = pl.quick_short if quick else pl.short
    t0 = time.perf_counter()
    subs = {}
    for run in presets.get(name):
        groups = [(variants, kinds, "paired") for variants, kinds in pl.groups]
        if pl.unpaired:
            groups.append((("faithful",), ("bespoke",), "unpaired"))
        models, meta = {}, None
        for variants, kinds, streams in groups:
            out = presets.run_config(run, seeds, variants=variants, kinds=kinds, short=short,
                                     progress=progress, ckpt_dir=ckpt_dir, ckpt_every=ckpt_every,
                                     streams=streams)
            models.update(out["models"])
            meta = meta or out
        key = presets.TASKS[run.task].low_noise   # the low-noise metric
        res = {"final": {}, "corrected": {}, "params": {}, "curves": {}, "timing": {},
               "short": meta["short"], "steps": meta["steps"], "full_steps": run.steps,
               "seeds": list(seeds), "floor": floors.preset_floor(run),
               "tier_sizes": meta["tier_sizes"], "compare": run.compare, "leak": run.leak,
               "steps_per_epoch": short.steps_per_epoch if short and run.final == "val_original"
               else run.steps_per_epoch}
        for tag, v in models.items():
            kind, variant, *rest = tag.split("/")
            label = "/".join([kind] + ([variant] if variant != "faithful" else []) + rest)
            res["final"][label] = np.asarray(v["final"])
            res["corrected"][label] = np.asarray(v["metrics"][key])
            res["params"][label] = np.asarray(v["params_embedding"] if run.compare == "embedding"
                                              else v["params_total"])
            res["curves"][label] = {"epochs": v["eval_epochs"],
                                    "values": v["curves"].get(key, v["curves"]["train_loss"])}
            res["timing"][label] = v["timing"]
        for kind in ("standard", "bespoke"):   # counts of a kind the plan does not train
            if kind not in res["params"]:
                res["params"][kind] = param_counts(run, seeds, kind)
        subs[run.name] = res
    wall = time.perf_counter() - t0
    for r in subs.values():
        r["wall_s"] = wall / len(subs)
    return subs


def param_counts(run, seeds: list[int], kind: str) -> np.ndarray:
    """Exact parameter counts of an untrained model per seed (its tiers decide the count)."""
    import jax
    from flax import nnx

    from jaxbespoke.protocols import presets
    from jaxbespoke.nn.embeddings import param_count

    _, tl = presets.build_data(run, seeds)
    caps = presets.capacities(run, tl)
    out = []
    for t in tl:
        m = nnx.eval_shape(lambda: presets.make_model(run, kind, jax.random.key(0), t.tier_V,
                                                      t.rows_V(), caps))
        # compact tables are built at the seeds' maximum tier sizes: count this seed's own
        emb = param_count(m.embed) if kind == "standard" or run.layout == "replica" else \
            presets.embed_params(run, t.sizes)
        out.append(emb if run.compare == "embedding" else param_count(m) - param_count(m.embed)
                   + emb)
    return np.asarray(out)


def params_only(name: str, seeds: list[int]) -> dict:
    """A preset's exact parameter counts from the first seed's tiers, without training."""
    import jax
    from flax import nnx

    from jaxbespoke.protocols import presets
    from jaxbespoke.nn.embeddings import param_count

    run = presets.get(name)[-1]
    _, tl = presets.build_data(run, seeds[:1])
    t = tl[0]
    out = {}
    for kind in ("standard", "bespoke"):
        m = nnx.eval_shape(lambda: presets.make_model(run, kind, jax.random.key(0), t.tier_V,
                                                      t.rows_V(), presets.capacities(run, tl)))
        out[kind] = np.array([param_count(m)])
    return {"params": out, "params_only": True, "seeds": list(seeds[:1]), "short": False,
            "compare": run.compare}


def timing(R: dict) -> dict:
    """Per run: wall, training and compile seconds, seconds per step (all seeds together, over
    every process that trained it), and the full-length estimate for shortened runs."""
    out = {}
    for key, res in R.items():
        if "timing" not in res:
            continue
        t = res["timing"]
        per = {k: v.get("s_per_step_total", v.get("s_per_step")) for k, v in t.items()}
        known = [v for v in per.values() if v is not None]
        full = (float(np.sum(known) * res["full_steps"])
                if res["short"] and known and len(known) == len(per) else None)
        out[key] = {"wall_s": res.get("wall_s"),
                    "train_s": sum(v.get("run_s", 0) for v in t.values()),
                    "compile_s": sum(v.get("compile_s", 0) for v in t.values()),
                    "s_per_step": per, "steps_run": res["steps"], "full_steps": res["full_steps"],
                    "shortened": res["short"], "seeds": len(res["seeds"]),
                    "full_run_estimate_s": full,
                    "resumed_from_epoch": {k: v.get("resumed_from_epoch") for k, v in t.items()}}
    return out


def default_ckpt_dir(out_dir: Path) -> str:
    return str(Path(out_dir).resolve() / "ckpt")
