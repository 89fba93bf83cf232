"""Faithful sparse-attention pipeline, one seed, compilation included: ours (JAX) vs a plain
PyTorch re-implementation of the original script (`parity/torch_ref/sparse.run_original`), timed
in the same run on the same machine. Wall clock and process CPU time are both reported: on a
shared machine the CPU seconds are the steadier yardstick.

    .venv/bin/python bench/bench_sparse.py            # both sides
    .venv/bin/python bench/bench_sparse.py --no-torch # ours only
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def timed(fn):
    w0, c0 = time.perf_counter(), cpu_s()
    out = fn()
    return out, time.perf_counter() - w0, cpu_s() - c0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--no-torch", action="store_true", help="time ours only")
    p.add_argument("--torch-threads", type=int, default=2)
    p.add_argument("--quick", action="store_true", help="tiny sizes (a smoke test, not a bench)")
    p.add_argument("--out", type=Path, default=ROOT / "results" / "bench_sparse.json")
    args = p.parse_args()

    sizes = dict(train_steps=300, collect_batches=32, selector_iters=400, approx_iters=600,
                 eval_batches=10)
    if args.quick:
        sizes = dict(train_steps=10, collect_batches=2, selector_iters=10, approx_iters=10,
                     eval_batches=2)

    def ours():
        from dataclasses import replace

        from jaxbespoke.sparse import SparseConfig, run_pipeline
        cfg = replace(SparseConfig(task="random"), log_every=min(sizes.values()) if args.quick
                      else 100, **sizes)
        r = run_pipeline(cfg, [0], modes=("faithful",), progress=False)
        return {k: r["results"]["faithful"]["hybrid"][k][0]
                for k in ("logits_rel_err", "selector_top1_acc")} | {"stages": r["timing"]}

    res = {"sizes": sizes}
    import jax

    res["jax"] = {"version": jax.__version__, "backend": jax.default_backend()}
    out, wall, cpu = timed(ours)
    res["ours"] = {"wall_s": wall, "cpu_s": cpu, **out}
    print(f"ours (JAX, incl. import of the pipeline and compilation): {wall:.1f} s wall, "
          f"{cpu:.1f} s CPU", flush=True)
    if not args.no_torch:
        import torch

        torch.set_num_threads(args.torch_threads)
        from parity.torch_ref.sparse import run_original

        out, wall, cpu = timed(lambda: run_original(**sizes))
        res["torch"] = {"wall_s": wall, "cpu_s": cpu, "threads": args.torch_threads, **out}
        res["ratio_wall"] = res["torch"]["wall_s"] / res["ours"]["wall_s"]
        res["ratio_cpu"] = res["torch"]["cpu_s"] / res["ours"]["cpu_s"]
        print(f"torch re-implementation: {wall:.1f} s wall, {cpu:.1f} s CPU", flush=True)
        print(f"speed-up of ours: {res['ratio_wall']:.2f}x wall, {res['ratio_cpu']:.2f}x CPU "
              "(target in the issue: 20x)")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(res, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
