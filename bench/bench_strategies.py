#!/usr/bin/env python
"""Training throughput (tokens/s) of every embedding strategy relative to the standard table, at
equal input-embedding parameters, measured side by side in one run.

The strategies are timed round-robin (standard, factorised, ..., standard, ...) and each one's
median over the rounds is kept, so that load from other processes on a shared machine falls on all
of them alike. Check: no compact routing (bespoke_compact, adaptive, mixed) may be more than 1.5x
slower than standard.

    .venv/bin/python bench/bench_strategies.py
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from jaxbespoke.nn import strategies
from jaxbespoke.studies import embedding_strategies as E
from jaxbespoke.utils import cli, device, report

COMPACT = ("bespoke_compact", "adaptive", "mixed")
LIMIT = 1.5


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="auto", choices=device.CHOICES)
    cli.add_scale_flags(p)
    p.add_argument("--budget", type=float, default=1.0, help="fraction of the standard V x D table")
    p.add_argument("--steps", type=int, default=40, help="training steps per timing")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--seeds", type=int, default=1, help="vmapped seeds per step")
    p.add_argument("--out", type=Path, default=Path("results/bench"))
    args = p.parse_args(argv)
    dev = device.setup(args)
    import jax
    import jax.numpy as jnp
    from flax import nnx

    from jaxbespoke.nn.gpt import GPTConfig
    from jaxbespoke.nn.lm import EmbeddingLM
    from jaxbespoke.training import streams
    from jaxbespoke.training.fit import fit_seeds
    from jaxbespoke.training.train import OptimConfig, TrainConfig

    cfg = replace(E.Config(), epochs=1, steps_per_epoch=args.steps)
    corpus, (train, val, test), bands, info = E.prepare(cfg)
    V, D, S = corpus.vocab_size, cfg.width, args.seeds
    arrays = {"train": train, "tier_V": bands.tier_V}
    for split, arr in (("val", val), ("test", test)):   # one chunk each: the task evaluates both
        x, y, m = E.eval_windows(arr, cfg.window, cfg.eval_chunk, cfg.window * cfg.eval_chunk)
        arrays.update({f"{split}_x": x, f"{split}_y": y, f"{split}_m": m})
    data = {k: jnp.asarray(np.broadcast_to(a, (S,) + a.shape)) for k, a in arrays.items()}
    gcfg = GPTConfig(vocab_size=V, block_size=cfg.window, n_layer=cfg.layers, n_head=cfg.heads,
                     n_embd=D)
    budget = int(round(args.budget * V * D))
    print(f"{device.banner(dev)}; V={V} D={D} window {cfg.window} batch {cfg.batch}, {S} seed(s), "
          f"budget {budget} ({args.budget:g} of V x D)", flush=True)
    jobs = {}
    for name in strategies.STRATEGIES:
        plan = strategies.size(name, budget, V, D, bands)

        def make_model(key, plan=plan):
            k_emb, k_body = jax.random.split(key)
            return EmbeddingLM(plan.build(bands, rngs=nnx.Rngs(k_emb)), gcfg,
                               rngs=nnx.Rngs(k_body))

        keys = streams.seed_keys(range(S), impl="rbg")
        tcfg = TrainConfig(epochs=1, steps_per_epoch=args.steps,
                           optim=OptimConfig("adamw", lr=cfg.lrs[1], weight_decay=0.01,
                                             clip_norm=1.0))
        # build, compile and run the warm-up round (not kept) on the one training path
        res = fit_seeds(make_model, keys, E.build_task(cfg, len(bands.names)), tcfg, data, keys,
                        range(S), progress=False)
        compile_s = res.timing.compile_s
        jobs[name] = dict(plan=plan, trainer=res.trainer, state=res.state, keys=keys,
                          compile_s=compile_s, times=[])
        print(f"  compiled {name:16s} dims {str(plan.dims):16s} params {plan.params} "
              f"({compile_s:.1f}s)", flush=True)
    tokens = S * args.steps * cfg.batch * cfg.window
    for _ in range(args.rounds):               # fit_seeds ran each job's warm-up round
        for j in jobs.values():
            t0 = time.perf_counter()
            st, _ = j["trainer"].fit(j["state"], data, j["keys"], list(range(S)), progress=False)
            jax.block_until_ready(st)
            j["times"].append(time.perf_counter() - t0)
    base = tokens / np.median(jobs["standard"]["times"])
    rows, ok = [], True
    print(f"{'strategy':16s} {'params':>8s} {'tokens/s':>10s} {'vs standard':>12s} "
          f"{'slowdown':>9s}")
    for name, j in jobs.items():
        tps = float(tokens / np.median(j["times"]))
        slow = base / tps
        check = bool(slow <= LIMIT) if name in COMPACT else None
        ok &= check is not False
        rows.append({"strategy": name, "dims": list(j["plan"].dims), "params": j["plan"].params,
                     "tokens_per_s": tps, "relative": tps / base, "slowdown": slow,
                     "times_s": j["times"], "compile_s": j["compile_s"],
                     "within_1_5x": check})
        flag = "" if check is None else ("  ok" if check else f"  SLOWER than {LIMIT}x")
        print(f"{name:16s} {j['plan'].params:8d} {tps:10.0f} {tps / base:11.2f}x "
              f"{slow:8.2f}x{flag}")
    report.write_json(args.out / "bench_strategies.json",
                      {"device": dev, "budget": budget, "steps": args.steps, "seeds": S,
                       "rounds": args.rounds, "tokens_per_timing": tokens, "rows": rows,
                       "compact_within_limit": bool(ok)})
    print("compact routings within 1.5x of standard" if ok else
          "a compact routing is more than 1.5x slower than standard")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
