"""Per-step training time of the definitive-size encoder (standard embedding, 4 post-LN layers,
D 128, B 16, T 32, dropout 0.1, AdamW + clip): ours (JAX, the engine's jitted lax.scan epoch) vs
the PyTorch reference (torch's nn.TransformerEncoderLayer, the original's training step), timed in
the same run on the same CPU. Wall clock and process CPU seconds are both reported: on a shared
machine CPU seconds are the steadier yardstick. Compilation is timed separately. Next to the
times: the FLOP bound of JAX's step (XLA's FLOPs of the compiled step over the matmul throughput
measured in the same run), the floor for either side.

    .venv/bin/python -m bench.bench_replicate            # 200 steps each
    .venv/bin/python -m bench.bench_replicate --quick    # smoke test

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


def cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def bench_jax(steps: int, preset: str):
    import jax

    from jaxbespoke.protocols import presets
    from jaxbespoke.training.train import Trainer, TrainConfig, init_states

    run = presets.get(preset)[0]
    data, tl = presets.build_data(run, [0])
    tier = jax.numpy.asarray(tl[0].tier_V)[None]
    rows = jax.numpy.asarray(tl[0].rows_V())[None]
    caps = presets.capacities(run, tl)
    keys = presets.seed_keys([0])
    graphdef, states = init_states(
        lambda k, tv, rv: presets.make_model(run, "standard", k, tv, rv, caps), keys, tier, rows)
    cfg = TrainConfig(1, steps, run.optim, (), skip_absent_groups=False)
    tr = Trainer(graphdef, presets.make_task(run), cfg)
    state = tr.init(states)
    compile_s = tr.compile(state, data, keys)
    params, rest, opt = state
    w0, c0 = time.perf_counter(), cpu_s()
    params, opt, losses = tr._epoch(params, rest, opt, data, keys, jax.numpy.int32(0))
    jax.block_until_ready(losses)
    return {"compile_s": compile_s, "wall_s": time.perf_counter() - w0, "cpu_s": cpu_s() - c0,
            "steps": steps, "step_flops": tr.flops()["step"],
            "params": sum(x.size for x in jax.tree.leaves(params)),
            "last_loss": float(losses[0, -1])}


def bench_torch(steps: int, preset: str, threads: int):
    import torch

    from jaxbespoke.protocols import presets
    from parity.torch_ref.encoders import EncoderLM

    torch.set_num_threads(threads)
    run = presets.get(preset)[0]
    e = run.encoder
    torch.manual_seed(0)
    model = EncoderLM(run.vocab, e.dim, e.heads, e.ffn, e.layers, norm=e.norm,
                      positions=e.positions, final_norm=e.final_norm, head_bias=e.head_bias)
    model.init_weights_normal02()
    model.train()
    o = run.optim
    opt = torch.optim.AdamW(model.parameters(), lr=o.lr, weight_decay=o.weight_decay)
    g = torch.Generator().manual_seed(0)
    data = torch.multinomial(torch.ones(run.vocab), 50_000, replacement=True, generator=g)

    def step():
        s = torch.randint(0, data.numel() - run.window - 1, (run.batch,), generator=g)
        idx = s[:, None] + torch.arange(run.window)
        x, y = data[idx], data[idx + 1]
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x).reshape(-1, run.vocab), y.reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), o.clip_norm)
        opt.step()
        return loss

    for _ in range(3):   # warm-up
        step()
    w0, c0 = time.perf_counter(), cpu_s()
    for _ in range(steps):
        loss = step()
    return {"wall_s": time.perf_counter() - w0, "cpu_s": cpu_s() - c0, "steps": steps,
            "threads": threads, "params": sum(p.numel() for p in model.parameters()),
            "last_loss": loss.item()}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--preset", default="definitive", choices=("definitive", "medium", "long"))
    p.add_argument("--torch-threads", default="1,2",
                   help="comma-separated torch thread counts to time (2 oversubscribes badly "
                        "when anything else runs on a 2-core machine)")
    p.add_argument("--quick", action="store_true", help="a few steps (smoke test, not a bench)")
    p.add_argument("--out", type=Path, default=ROOT / "results" / "bench_replicate.json")
    args = p.parse_args(argv)
    steps = 5 if args.quick else args.steps
    from jaxbespoke.utils import bench

    load0 = os.getloadavg()
    thr = bench.matmul_throughput()
    ours = bench_jax(steps, args.preset)
    refs = {int(t): bench_torch(steps, args.preset, int(t)) for t in args.torch_threads.split(",")}
    best = min(refs, key=lambda t: refs[t]["wall_s"])
    full = {"definitive": 350_000, "long": 500_000, "medium": 20_000}[args.preset]
    res = {"preset": args.preset, "steps": steps, "jax": ours,
           "torch": {str(t): r for t, r in refs.items()}, "torch_best_threads": best,
           "ms_per_step": {"jax": 1e3 * ours["wall_s"] / steps,
                           **{f"torch_{t}t": 1e3 * r["wall_s"] / steps for t, r in refs.items()}},
           "cpu_ms_per_step": {"jax": 1e3 * ours["cpu_s"] / steps,
                               **{f"torch_{t}t": 1e3 * r["cpu_s"] / steps
                                  for t, r in refs.items()}}}
    bound_ms = 1e3 * bench.flop_bound(ours["step_flops"], thr)
    res["matmul"], res["flop_bound_ms_per_step"] = thr, bound_ms
    res["load"] = {"before": load0, "after": os.getloadavg(), "cpus": os.cpu_count()}
    res["speedup_wall_vs_best_torch"] = refs[best]["wall_s"] / ours["wall_s"]
    res["speedup_cpu_vs_best_torch"] = refs[best]["cpu_s"] / ours["cpu_s"]
    res["full_run_hours_per_model"] = {k: v * full / 3.6e6 for k, v in res["ms_per_step"].items()}
    assert all(ours["params"] == r["params"] for r in refs.values())
    print(f"{args.preset} encoder training step, {steps} steps, params {ours['params']:,}")
    print(f"  FLOP bound: {ours['step_flops'] / 1e9:.3f} GFLOP per step (XLA) at "
          f"{thr['flops_per_s'] / 1e9:.1f} GFLOP/s = {bound_ms:.2f} ms/step")
    for k in res["ms_per_step"]:
        print(f"  {k:9s}: {res['ms_per_step'][k]:7.1f} ms/step wall "
              f"({res['ms_per_step'][k] / bound_ms:.1f}x bound), "
              f"{res['cpu_ms_per_step'][k]:7.1f} ms/step CPU, full run "
              f"{res['full_run_hours_per_model'][k]:.1f} h per model")
    print(f"  best torch ({best} thread(s)) / jax: {res['speedup_wall_vs_best_torch']:.2f}x wall, "
          f"{res['speedup_cpu_vs_best_torch']:.2f}x CPU (JAX compile {ours['compile_s']:.1f} s, "
          f"not included)")
    print(f"  load average before {[round(x, 2) for x in load0]}, after "
          f"{[round(x, 2) for x in os.getloadavg()]} on {os.cpu_count()} CPUs")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(res, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
