#!/usr/bin/env python
"""Time the 50-epoch protocol (both models) in the PyTorch reference and in JAX, side by side.

PyTorch: the vectorised reference (`parity.torch_ref`), seeds in a Python loop, one intra-op
thread per process (as a 2-core machine shared with other work should run it; --torch-threads
changes it). JAX: `jaxbespoke.protocols.protocol.run_pooled`, seeds vmapped into one program; compilation
is timed apart from running. Absolute times on a shared machine are noisy; the ratios measured in
one run are the figures to read. Next to JAX's times: its FLOP bound (XLA's FLOPs of the compiled
step and evaluation over the matmul throughput measured in the same run).

    .venv/bin/python -m bench.bench_parity   # from the repository root (imports parity/)
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from jaxbespoke.utils import bench, cli, device, report
from jaxbespoke.protocols.protocol import PooledConfig, run_pooled


def time_torch(cfg, n_seeds: int) -> dict:
    from parity.torch_ref.train import run_pooled_unseeded

    t0 = time.perf_counter()
    for s in range(n_seeds):
        run_pooled_unseeded(cfg, s)
    return {"seeds": n_seeds, "total_s": time.perf_counter() - t0}


def time_jax(cfg, n_seeds: int) -> dict:
    t0 = time.perf_counter()
    res = run_pooled(cfg, list(range(n_seeds)), progress=False)
    total = time.perf_counter() - t0
    return {"seeds": n_seeds, "total_s": total,
            "compile_s": sum(t["compile_s"] for t in res["timing"].values()),
            "run_s": sum(t["run_s"] for t in res["timing"].values()),
            "flops": sum(bench.training_flops(t) for t in res["timing"].values())}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="auto", choices=device.CHOICES)
    cli.add_scale_flags(p)
    p.add_argument("--many", type=int, default=16, help="seeds in the many-seed runs")
    p.add_argument("--torch-threads", type=int, default=1)
    p.add_argument("--out", type=Path, default=Path("results/bench"))
    args = p.parse_args(argv)
    import torch

    torch.set_num_threads(args.torch_threads)
    dev = device.setup(args)
    print(device.banner(dev))
    cfg = PooledConfig()
    warm = PooledConfig(epochs=1, steps_per_epoch=2)
    time_torch(warm, 1), time_jax(warm, 1)                 # imports, allocators
    thr = bench.matmul_throughput()
    print(f"matmul throughput {thr['flops_per_s'] / 1e9:.1f} GFLOP/s (best of n={thr['n']})")
    rows = {"torch_1": time_torch(cfg, 1), "jax_1": time_jax(cfg, 1),
            "torch_many": time_torch(cfg, args.many), "jax_many": time_jax(cfg, args.many)}
    for k, r in rows.items():
        if "flops" in r:
            r["bound_s"] = bench.flop_bound(r["flops"], thr)
        extra = (f"  (compile {r['compile_s']:.2f} s + run {r['run_s']:.2f} s; FLOP bound "
                 f"{r['bound_s']:.3f} s, run / bound {r['run_s'] / r['bound_s']:.1f}x)"
                 if "compile_s" in r else "")
        print(f"{k:>11}: {r['seeds']:>3} seed(s) {r['total_s']:8.2f} s{extra}")
    ratios = {
        "torch_over_jax_1_seed": rows["torch_1"]["total_s"] / rows["jax_1"]["total_s"],
        "torch_over_jax_many": rows["torch_many"]["total_s"] / rows["jax_many"]["total_s"],
        "torch_over_jax_many_run_only": rows["torch_many"]["total_s"] / rows["jax_many"]["run_s"],
        "jax_many_over_1": rows["jax_many"]["total_s"] / rows["jax_1"]["total_s"],
        "torch_many_over_1": rows["torch_many"]["total_s"] / rows["torch_1"]["total_s"],
    }
    for k, v in ratios.items():
        print(f"{k:>30}: {v:6.2f}x")
    report.write_json(args.out / "bench_parity.json",
                      {"device": dev, "torch_threads": args.torch_threads, "many": args.many,
                       "rows": rows, "ratios": ratios, "matmul": thr,
                       "load_after": os.getloadavg()})
    print(f"load average after: {[round(x, 2) for x in os.getloadavg()]} on {os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
