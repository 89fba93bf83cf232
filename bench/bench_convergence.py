#!/usr/bin/env python
"""Time the 50-epoch protocol for 1 seed and for 16 vmapped seeds, compilation apart from running,
next to its FLOP bound (XLA's FLOPs of the compiled step and evaluation over the matmul
throughput measured in the same run).

--compare-pooling also times the 16-seed bespoke model pooling through the (V, D) table of every
id's projected embedding (the way before per-tier pooling), alternating with the current per-tier
pooling, `--repeats` times each.

Absolute times on a shared machine are noisy; the ratios, measured side by side in one run, are
the figures to read.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from contextlib import nullcontext
from pathlib import Path
from unittest import mock

import numpy as np

from jaxbespoke.utils import bench, cli, device, report
from jaxbespoke.nn.embeddings import BespokeEmbedding
from jaxbespoke.protocols.protocol import PooledConfig, run_pooled


def measure(cfg, n_seeds: int, table_pooling: bool = False, kinds=("standard", "bespoke")) -> dict:
    # table pooling: without `window_mean` the pooled model gathers lookup_all()'s (V, D) table
    ctx = (mock.patch.object(BespokeEmbedding, "window_mean", None) if table_pooling
           else nullcontext())
    with ctx:
        t0 = time.perf_counter()
        res = run_pooled(cfg, list(range(n_seeds)), progress=False, kinds=kinds)
        total = time.perf_counter() - t0
    tm = res["timing"].values()
    flops = sum(bench.training_flops(t) for t in tm)
    return {"seeds": n_seeds, "compile_s": sum(t["compile_s"] for t in tm),
            "run_s": sum(t["run_s"] for t in tm), "total_s": total, "flops": flops,
            "per_model": {k: {"run_s": t["run_s"], "flops": t["flops"]}
                          for k, t in res["timing"].items()},
            "final_val_full": {k: m["history"]["val_full"][:, -1].tolist()
                               for k, m in res["models"].items()}}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="auto", choices=device.CHOICES)
    cli.add_scale_flags(p)
    p.add_argument("--many", type=int, default=16, help="seeds in the vmapped run")
    p.add_argument("--compare-pooling", action="store_true",
                   help="also time the bespoke model pooling through the (V, D) table")
    p.add_argument("--repeats", type=int, default=3, help="repeats of each pooling (compare)")
    p.add_argument("--compare-only", action="store_true", help="skip the 1 vs 16 seed timing")
    p.add_argument("--out", type=Path, default=Path("results/bench"))
    args = p.parse_args(argv)
    dev = device.setup(args)
    cfg = PooledConfig()
    print(device.banner(dev))
    load0 = os.getloadavg()
    measure(PooledConfig(epochs=1, steps_per_epoch=2), 1)     # warm imports and the allocator
    thr = bench.matmul_throughput()
    out = {"device": dev, "matmul": thr}
    print(f"matmul throughput {thr['flops_per_s'] / 1e9:.1f} GFLOP/s (best of n={thr['n']})")
    if not args.compare_only:
        one, many = measure(cfg, 1), measure(cfg, args.many)
        ratios = {k: many[k] / one[k] for k in ("compile_s", "run_s", "total_s")}
        print(f"{'seeds':>6} {'compile s':>10} {'run s':>8} {'total s':>8} {'GFLOP':>7} "
              f"{'bound s':>8} {'run/bound':>9}")
        for r in (one, many):
            b = bench.flop_bound(r["flops"], thr)
            r["bound_s"] = b
            print(f"{r['seeds']:>6} {r['compile_s']:>10.2f} {r['run_s']:>8.2f} "
                  f"{r['total_s']:>8.2f} {r['flops'] / 1e9:>7.2f} {b:>8.3f} "
                  f"{r['run_s'] / b:>8.1f}x")
        print(f"{args.many} seeds / 1 seed: compile {ratios['compile_s']:.2f}x, "
              f"run {ratios['run_s']:.2f}x, total {ratios['total_s']:.2f}x "
              f"(per seed: {ratios['total_s'] / args.many:.3f}x)")
        out |= {"one": one, "many": many, "ratios": ratios}
    if args.compare_pooling:
        runs = {"table": [], "per_tier": []}
        for _ in range(args.repeats):   # alternate, so that load hits both alike
            for name in runs:
                runs[name].append(measure(cfg, args.many, table_pooling=name == "table",
                                          kinds=("bespoke",)))
        cmp = {}
        for name, rs in runs.items():
            bes = [r["per_model"]["bespoke"] for r in rs]
            cmp[name] = {"total_s": [r["total_s"] for r in rs],
                         "bespoke_compile_s": [r["compile_s"] for r in rs],
                         "bespoke_run_s": [b["run_s"] for b in bes],
                         "bespoke_step_flops": bes[0]["flops"]["step"],
                         "bespoke_eval_flops": bes[0]["flops"]["eval"]}
            print(f"pooling {name:>8}: total s {np.round(cmp[name]['total_s'], 2).tolist()}, "
                  f"bespoke run s {np.round(cmp[name]['bespoke_run_s'], 2).tolist()}, "
                  f"bespoke step {cmp[name]['bespoke_step_flops'] / 1e6:.2f} MFLOP "
                  f"({args.many} seeds)")
        diff = float(np.max(np.abs(np.subtract(runs["table"][0]["final_val_full"]["bespoke"],
                                               runs["per_tier"][0]["final_val_full"]["bespoke"]))))
        cmp["speedup_bespoke_run_median"] = (np.median(cmp["table"]["bespoke_run_s"])
                                             / np.median(cmp["per_tier"]["bespoke_run_s"]))
        cmp["speedup_total_median"] = (np.median(cmp["table"]["total_s"])
                                       / np.median(cmp["per_tier"]["total_s"]))
        cmp["max_abs_diff_final_val_full"] = diff
        print(f"per-tier pooling over table pooling: bespoke training run "
              f"{cmp['speedup_bespoke_run_median']:.2f}x faster, bespoke job (compile "
              f"included) {cmp['speedup_total_median']:.2f}x (medians of "
              f"{args.repeats}); final val_full max |diff| {diff:.2e}")
        out["compare_pooling"] = cmp
    out["load"] = {"before": load0, "after": os.getloadavg(), "cpus": os.cpu_count()}
    print(f"load average before {np.round(load0, 2).tolist()}, after "
          f"{np.round(out['load']['after'], 2).tolist()} on {os.cpu_count()} CPUs")
    report.write_json(args.out / "bench_convergence.json", out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
