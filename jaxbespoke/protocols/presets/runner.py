"""Run a preset's configuration: data per seed, then every (variant, kind) on the one path
(training.fit.fit_seeds), with exact parameter counts and timings."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, replace

import jax
import jax.numpy as jnp
import numpy as np

from jaxbespoke.data import corpus
from jaxbespoke.nn.embeddings import param_count
from jaxbespoke.protocols.presets.configs import RunConfig, make_tiers
from jaxbespoke.protocols.presets.models import capacities, embed_params, make_model
from jaxbespoke.protocols.presets.tasks import TASKS, make_task
from jaxbespoke.training import streams as rng_streams
from jaxbespoke.training.fit import fit_seeds
from jaxbespoke.training.train import TrainConfig, eval_schedule
from jaxbespoke.utils import parallel
from jaxbespoke.utils.errors import ConfigError

seed_keys = rng_streams.seed_keys


def build_data(run: RunConfig, seeds):
    """Per seed: corpus, tiers (from the WHOLE corpus, validation included, as the original),
    and the segments the task reads. Leading axis = seed."""
    S = len(seeds)
    if run.zipf is None:   # debug: fresh uniform batches each step, no corpus
        tl = [make_tiers(run, None)] * S
        return {"train": jnp.zeros((S, 1), jnp.int32)}, tl
    keys = rng_streams.fold(seed_keys(seeds), rng_streams.DATA)
    toks = np.asarray(jax.jit(jax.vmap(
        lambda k: corpus.zipf_corpus(k, run.vocab, run.zipf, run.corpus_size)))(keys))
    tl = [make_tiers(run, t) for t in toks]
    if run.train_frac is not None:
        train, val = corpus.split(toks, run.train_frac)
        return {"train": jnp.asarray(train), "val": jnp.asarray(val)}, tl
    if TASKS[run.task].data == "working":
        # trains on tokens 0..~350 only: the rest is an honest held-out set
        return {"train": jnp.asarray(toks[:, :512]), "val": jnp.asarray(toks[:, 512:])}, tl
    return {"train": jnp.asarray(toks)}, tl


@dataclass(frozen=True)
class Shorten:
    """Run only the first epochs*steps_per_epoch steps of a long preset, with the full run's
    per-step learning-rate schedule (cosine T_max rescaled to the new epoch length)."""

    epochs: int
    steps_per_epoch: int


def train_config(run: RunConfig, short: Shorten | None) -> TrainConfig:
    if short is None:
        return TrainConfig(run.epochs, run.steps_per_epoch, run.optim, run.eval_epochs,
                           skip_absent_groups=run.skip_absent)
    optim = run.optim
    if optim.schedule == "cosine_epoch":
        t_max = (optim.cosine_t_max or run.epochs) * run.steps_per_epoch / short.steps_per_epoch
        optim = replace(optim, cosine_t_max=t_max)
    every = max(1, short.epochs // 10)
    return TrainConfig(short.epochs, short.steps_per_epoch, optim,
                       eval_schedule(short.epochs, every), skip_absent_groups=run.skip_absent)


def fingerprint(run: RunConfig, seeds, kind, variant, short) -> dict:
    """What a checkpoint of this model must have been written by (RunCheckpoint)."""
    return {"run": run.record(), "seeds": list(seeds), "kind": kind,
            "variant": variant, "short": None if short is None else asdict(short)}


def run_config(run: RunConfig, seeds, *, variants=("faithful",), kinds=("standard", "bespoke"),
               short: Shorten | None = None, progress: bool = True, ckpt_dir=None,
               ckpt_every: int = 1, streams: str = "paired") -> dict:
    """Train every (variant, kind) on every seed. Returns per-seed final metrics, curves, exact
    parameter counts and timings. With ckpt_dir, each model checkpoints every `ckpt_every`
    epochs and a rerun resumes where it stopped (identical numbers: keys derive from the epoch).
    streams='unpaired' gives the bespoke model its own batch stream (the original's design, see
    protocol.stream_keys); its results are keyed 'bespoke/<variant>/unpaired'."""
    from jaxbespoke.protocols.protocol import kind_keys as protocol_kind_keys
    from jaxbespoke.training import checkpoint

    if not seeds:
        raise ConfigError("need at least one seed")
    if (short is not None and run.final != "val_original"
            and short.epochs * short.steps_per_epoch != run.steps):
        raise ConfigError(f"{run.name}: only presets evaluated on validation data can be shortened")
    t_data = time.perf_counter()
    data, tl = build_data(run, seeds)
    caps = capacities(run, tl)
    tier_SV = jnp.asarray(np.stack([t.tier_V for t in tl]))
    rows_SV = jnp.asarray(np.stack([t.rows_V() for t in tl]))
    keys = seed_keys(seeds)
    train_keys = rng_streams.fold(keys, rng_streams.TRAIN)
    task = make_task(run)
    tcfg = train_config(run, short)
    out = {"config": run.name, "seeds": list(seeds), "tier_sizes": [list(t.sizes) for t in tl],
           "tier_mass": [list(t.mass()) for t in tl] if run.zipf is not None else None,
           "capacities": list(caps), "steps": tcfg.epochs * tcfg.steps_per_epoch,
           "full_steps": run.steps, "short": short is not None, "models": {},
           "seed_split": parallel.split(len(seeds)).describe(list(seeds)),
           "data_s": time.perf_counter() - t_data}
    for variant in variants:
        if variant not in ("faithful", "causal"):
            raise ConfigError(f"unknown variant {variant!r}; expected 'faithful' or 'causal'")
        if variant == "causal" and run.body != "encoder":
            raise ConfigError(f"{run.name} has no attention: no causal variant")
        for kind in kinds:
            init_keys, kind_keys = protocol_kind_keys(keys, train_keys, kind, streams)
            tag = f"{kind}/{variant}" + ("/unpaired" if kind_keys is not train_keys else "")
            ck = None
            if ckpt_dir is not None:
                fp = fingerprint(run, seeds, kind, variant, short)
                if tag.endswith("/unpaired"):
                    fp["streams"] = "unpaired"
                ck = checkpoint.RunCheckpoint(f"{ckpt_dir}/{run.name}_{tag.replace('/', '_')}", fp,
                                              every=ckpt_every, last_epoch=tcfg.epochs - 1)
            res = fit_seeds(
                lambda k, tv, rv: make_model(run, kind, k, tv, rv, caps, variant == "causal"),
                (init_keys, tier_SV, rows_SV), task, tcfg, data, kind_keys, list(seeds),
                checkpoint=ck, progress=progress, desc=f"{run.name} {tag}")
            hist, tm = res.history, res.timing
            start, run_s, model0 = tm.start_epoch, tm.run_s, res.model(0)
            arr = hist.arrays()
            final = (arr[run.final][:, -1] if run.final == "val_original"
                     else arr["train_loss"][:, -1])
            emb_caps = param_count(model0.embed)
            body = param_count(model0) - emb_caps
            emb = ([emb_caps] * len(seeds) if kind == "standard" or run.layout == "replica"
                   else [embed_params(run, t.sizes) for t in tl])
            steps_run, total_steps = tm.steps_run, tm.steps
            prior = 0.0 if ck is None or start == 0 else ck.train_s_prior
            total_s = None if prior is None else prior + run_s
            out["models"][tag] = {
                "final": final, "metrics": {k: v[:, -1] for k, v in arr.items()
                                            if k != "train_loss"},
                "curves": {k: v for k, v in arr.items()}, "eval_epochs": list(hist.eval_epochs),
                "params_embedding": emb, "params_total": [body + e for e in emb],
                "timing": {"compile_s": tm.compile_s, "run_s": run_s, "resumed_from_epoch": start,
                           "steps_run": steps_run,
                           "s_per_step": run_s / steps_run if steps_run else None,
                           # all processes together (a resumed run adds its earlier ones)
                           "train_s_total": total_s,
                           "s_per_step_total": None if total_s is None else total_s / total_steps}}
    return out
