"""Faithful sparse-attention pipeline, one seed, compilation included: ours (JAX) vs a plain
PyTorch re-implementation of the original script (`parity/torch_ref/sparse.run_original`), timed
in the same run on the same machine, torch once per thread count (--torch-threads 1,2). Wall clock
and process CPU time are both reported: on a shared machine the CPU seconds are the steadier
yardstick. Next to ours: the FLOP bound of each stage (XLA's FLOPs of the compiled programs over
the matmul throughput measured in the same run); torch does the same arithmetic.

    .venv/bin/python -m bench.bench_sparse            # both sides
    .venv/bin/python -m bench.bench_sparse --no-torch # ours only
    .venv/bin/python -m bench.bench_sparse --original path/to/run_mps_topk_mlp.py

--original times the original repository's script itself (not shipped here: fetch it from the
original repository) as a subprocess with torch's default threads, in the same run.

(as a module from the repository root: the PyTorch reference is imported from parity/)
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def cpu_s(who=resource.RUSAGE_SELF) -> float:
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


def timed(fn, who=resource.RUSAGE_SELF):
    w0, c0 = time.perf_counter(), cpu_s(who)
    out = fn()
    return out, time.perf_counter() - w0, cpu_s(who) - c0


def ratios(r: dict, res: dict) -> dict:
    """Their wall and CPU seconds over ours (cold; and warm when timed): > 1 means ours is faster."""
    out = {}
    for tag, key in (("", "ours"), ("_warm", "ours_warm")):
        if key in res:
            out[f"ratio_wall{tag}"] = r["wall_s"] / res[key]["wall_s"]
            out[f"ratio_cpu{tag}"] = r["cpu_s"] / res[key]["cpu_s"]
    return out


def describe(r: dict) -> str:
    text = f"{r['ratio_wall']:.2f}x wall, {r['ratio_cpu']:.2f}x CPU"
    if "ratio_wall_warm" in r:
        text += (f" (warm cache: {r['ratio_wall_warm']:.2f}x wall, "
                 f"{r['ratio_cpu_warm']:.2f}x CPU)")
    return text


def run_script(path: Path) -> dict:
    """Run a Python script in a scratch folder; every line it prints is kept with the seconds
    since its start at which the line arrived (the original prints one line per stage)."""
    import subprocess
    import tempfile

    lines = []
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-u", str(path.resolve())], cwd=tmp, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        assert proc.stdout is not None
        for line in proc.stdout:  # stderr merged: one pipe cannot fill up unread
            lines.append([round(time.perf_counter() - t0, 2), line.rstrip()])
        proc.wait()
    if proc.returncode:
        raise SystemExit(f"error: {path} exited with status {proc.returncode}: "
                         f"{lines[-1][1] if lines else ''}")
    return {"lines": lines}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--no-torch", action="store_true", help="time ours only")
    p.add_argument("--torch-threads", default="1,2",
                   help="comma-separated torch intra-op thread counts, one torch run each")
    p.add_argument("--original", type=Path, metavar="SCRIPT",
                   help="also time the original repository's run_mps_topk_mlp.py (a path)")
    p.add_argument("--warm", action="store_true",
                   help="run ours a second time with the compilation cache the first run filled "
                        "(a fresh folder): what a user's second run costs")
    p.add_argument("--quick", action="store_true", help="tiny sizes (a smoke test, not a bench)")
    p.add_argument("--out", type=Path, default=ROOT / "results" / "bench_sparse.json")
    args = p.parse_args(argv)
    if args.original is not None and not args.original.is_file():
        p.error(f"--original {args.original}: no such file")
    if args.original is not None and args.quick:
        p.error("--original runs the full-size script: it cannot be compared with --quick")

    sizes = dict(train_steps=300, collect_batches=32, selector_iters=400, approx_iters=600,
                 eval_batches=10)
    if args.quick:
        sizes = dict(train_steps=10, collect_batches=2, selector_iters=10, approx_iters=10,
                     eval_batches=2)

    def ours():
        from dataclasses import replace

        from jaxbespoke.protocols.sparse import SparseConfig, run_pipeline
        cfg = replace(SparseConfig(task="random"), log_every=min(sizes.values()) if args.quick
                      else 100, **sizes)
        r = run_pipeline(cfg, [0], modes=("faithful",), progress=False)
        return {k: r["results"]["faithful"]["hybrid"][k][0]
                for k in ("logits_rel_err", "selector_top1_acc")} | {"stages": r["timing"]}

    res = {"sizes": sizes, "load_before": os.getloadavg()}
    import jax

    from jaxbespoke.utils import bench

    res["jax"] = {"version": jax.__version__, "backend": jax.default_backend()}
    thr = res["matmul"] = bench.matmul_throughput()
    print(f"matmul throughput {thr['flops_per_s'] / 1e9:.1f} GFLOP/s (best of n={thr['n']})")
    cache_dir = None
    if args.warm:  # an empty cache: the first run compiles everything and fills it
        import tempfile

        from jaxbespoke.utils import compile_cache
        cache_dir = Path(tempfile.mkdtemp(prefix="bench_sparse_cache_"))
        compile_cache.enable(cache_dir)
    out, wall, cpu = timed(ours)
    res["ours"] = {"wall_s": wall, "cpu_s": cpu, **out}
    print(f"ours (JAX, incl. import of the pipeline and compilation): {wall:.1f} s wall, "
          f"{cpu:.1f} s CPU", flush=True)
    if args.warm:
        w_out, w_wall, w_cpu = timed(ours)
        res["ours_warm"] = {"wall_s": w_wall, "cpu_s": w_cpu, **w_out}
        print(f"ours again, warm compilation cache: {w_wall:.1f} s wall, {w_cpu:.1f} s CPU",
              flush=True)
        import shutil

        shutil.rmtree(cache_dir, ignore_errors=True)
    total_flops = 0.0
    for name, st in out["stages"].items():
        if not isinstance(st, dict) or "flops" not in st:
            continue
        f = bench.training_flops(st) if "steps" in st else st["flops"]
        st["total_flops"], st["bound_s"] = f, bench.flop_bound(f, thr)
        total_flops += f
        spent = st.get("run_s", st["total_s"])
        print(f"  {name:>22}: {spent:7.2f} s ({'run' if 'run_s' in st else 'total'}"
              f"{', compile {:.1f} s'.format(st['compile_s']) if 'compile_s' in st else ''}), "
              f"{f / 1e12:.3f} TFLOP, bound {st['bound_s']:.2f} s, "
              f"{spent / st['bound_s']:.1f}x bound")
    res["ours"]["flops"] = total_flops
    res["ours"]["bound_s"] = bench.flop_bound(total_flops, thr)
    print(f"  pipeline: {total_flops / 1e12:.3f} TFLOP, FLOP bound {res['ours']['bound_s']:.1f} s; "
          f"wall {wall / res['ours']['bound_s']:.1f}x bound")
    if not args.no_torch:
        import torch

        from parity.torch_ref.sparse import run_original

        res["torch"] = {}
        for n in [int(t) for t in args.torch_threads.split(",")]:
            torch.set_num_threads(n)
            out, wall, cpu = timed(lambda: run_original(**sizes))
            r = res["torch"][str(n)] = {"wall_s": wall, "cpu_s": cpu, "threads": n, **out}
            r.update(ratios(r, res))
            print(f"torch re-implementation, {n} thread(s): {wall:.1f} s wall, {cpu:.1f} s CPU; "
                  f"torch / ours: {describe(r)} ({wall / res['ours']['bound_s']:.1f}x our FLOP "
                  "bound)", flush=True)
    if args.original is not None:
        out, wall, cpu = timed(lambda: run_script(args.original), resource.RUSAGE_CHILDREN)
        r = res["original"] = {"script": str(args.original), "wall_s": wall, "cpu_s": cpu, **out}
        r.update(ratios(r, res))
        print(f"original script ({args.original.name}, torch default threads): {wall:.1f} s "
              f"wall, {cpu:.1f} s CPU; original / ours: {describe(r)}", flush=True)
        for at, line in out["lines"]:  # its stage markers, timed as they arrived
            if line.startswith("[info] training") or line.startswith("[result]"):
                print(f"  {at:7.1f} s  {line}")
    res["load_after"] = os.getloadavg()
    print(f"load average before {[round(x, 2) for x in res['load_before']]}, after "
          f"{[round(x, 2) for x in res['load_after']]} on {os.cpu_count()} CPUs")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(res, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
