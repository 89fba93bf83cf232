#!/usr/bin/env python
"""Replicate the original 50-epoch comparison of standard and bespoke embeddings, with statistics.

Reported by the original (one unseeded draw each): standard 2.9091, bespoke 2.9251 final loss
("0.6% worse"), bespoke 2.48x the parameters (25,800 vs 63,944).
"""

from __future__ import annotations

import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from jaxbespoke import cli, device, report, stats  # noqa: E402
from jaxbespoke.errors import TrainingDiverged  # noqa: E402

NAME = "convergence"
REPORTED = {"standard_final_loss": 2.9091, "bespoke_final_loss": 2.9251,
            "standard_params": 25_800, "bespoke_params": 63_944, "param_ratio": 2.48}
QUICK = dict(vocab_size=60, embed_dim=16, window=8, batch=4, corpus_size=3000, epochs=3,
             steps_per_epoch=5, eval_every=2, val_batches=2, n_high=5, n_low=10)


def parse(argv=None):
    p = cli.parser(NAME, __doc__.splitlines()[0])
    p.add_argument("--epochs", type=cli.positive_int, help="epochs (original: 50)")
    p.add_argument("--steps-per-epoch", type=cli.positive_int, help="batches per epoch (50)")
    p.add_argument("--embed-dim", type=cli.positive_int, help="model width D (64; docs said 128)")
    p.add_argument("--vocab-size", type=cli.positive_int, help="vocabulary V (200)")
    p.add_argument("--zipf", type=cli.positive_float, help="Zipf exponent s (1.4)")
    p.add_argument("--corpus-size", type=cli.positive_int, help="corpus tokens N (10,000)")
    p.add_argument("--n-high", type=cli.positive_int, help="high tier: top-N observed (20)")
    p.add_argument("--n-low", type=cli.positive_int, help="low tier: bottom-M observed (50)")
    p.add_argument("--lr", type=cli.positive_float, help="Adam learning rate (1e-3)")
    p.add_argument("--layout", choices=("replica", "compact"),
                   help="bespoke tables over the full vocab (original) or per tier")
    p.add_argument("--no-skip-absent", action="store_true",
                   help="give absent tiers a (zero-gradient) Adam step instead of torch's skip")
    return p.parse_args(argv)


def build_config(args):
    from jaxbespoke.protocol import PooledConfig

    base = PooledConfig(**QUICK) if args.quick else PooledConfig()
    over = {k: getattr(args, k) for k in ("epochs", "steps_per_epoch", "embed_dim", "vocab_size",
                                          "zipf", "corpus_size", "n_high", "n_low", "layout", "lr")
            if getattr(args, k) is not None}
    if args.no_skip_absent:
        over["skip_absent_tiers"] = False
    return replace(base, **over)


def summarise(cfg, res, seeds, floor):
    std, bes = res["models"]["standard"], res["models"]["bespoke"]
    summary, finals = {}, {}
    for est, key in (("original", "val_original"), ("full", "val_full")):
        a, b = std["history"][key][:, -1], bes["history"][key][:, -1]
        oracle = std["history"][key.replace("val", "oracle")][:, -1]
        finals[est] = {"standard": a, "bespoke": b, "oracle": oracle}
        summary[est] = {"standard": stats.mean_ci(a), "bespoke": stats.mean_ci(b),
                        "oracle": stats.mean_ci(oracle),
                        "standard_excess": stats.mean_ci(a - oracle),
                        "bespoke_excess": stats.mean_ci(b - oracle),
                        "difference": stats.paired_difference(a, b),
                        "ratio": stats.mean_ci(b / a),
                        "standard_prediction_interval": stats.prediction_interval(a),
                        "bespoke_prediction_interval": stats.prediction_interval(b),
                        "difference_prediction_interval": stats.prediction_interval(b - a),
                        "fraction_below_floor": {"standard": float((a < floor["entropy"]).mean()),
                                                 "bespoke": float((b < floor["entropy"]).mean())}}
    ratio = bes["params"] / std["params"]
    o, f = summary["original"], summary["full"]
    rep_diff = REPORTED["bespoke_final_loss"] - REPORTED["standard_final_loss"]
    verdicts = [
        ("standard parameters", REPORTED["standard_params"], std["params"],
         stats.verdict_exact(REPORTED["standard_params"], std["params"]), "exact count"),
        ("bespoke parameters", REPORTED["bespoke_params"], bes["params"],
         stats.verdict_exact(REPORTED["bespoke_params"], bes["params"]), "exact count"),
        ("parameter ratio", REPORTED["param_ratio"], round(ratio, 2),
         stats.verdict_exact(REPORTED["param_ratio"], round(ratio, 2)), "printed to 2 decimals"),
        ("standard final loss", REPORTED["standard_final_loss"], o["standard"]["mean"],
         stats.verdict_single_draw(REPORTED["standard_final_loss"], finals["original"]["standard"]),
         "one 80-target draw vs our 95% prediction interval "
         f"[{o['standard_prediction_interval'][0]:.3f}, {o['standard_prediction_interval'][1]:.3f}]"),
        ("bespoke final loss", REPORTED["bespoke_final_loss"], o["bespoke"]["mean"],
         stats.verdict_single_draw(REPORTED["bespoke_final_loss"], finals["original"]["bespoke"]),
         "one 80-target draw vs our 95% prediction interval "
         f"[{o['bespoke_prediction_interval'][0]:.3f}, {o['bespoke_prediction_interval'][1]:.3f}]"),
        ("bespoke - standard (\"0.6% worse\")", rep_diff, f["difference"]["mean"],
         stats.verdict_difference(rep_diff, f["difference"]),
         "paired difference on the full-validation estimator, 95% CI "
         f"[{f['difference']['ci95'][0]:+.4f}, {f['difference']['ci95'][1]:+.4f}]; "
         "a single 80-target draw of it spreads over "
         f"[{o['difference_prediction_interval'][0]:+.3f}, {o['difference_prediction_interval'][1]:+.3f}]"),
    ]
    if not comparable(cfg):
        verdicts = [v[:3] + ("not comparable", "config differs from the original's") for v in verdicts]
    return summary, finals, ratio, [dict(zip(("figure", "reported", "measured", "verdict", "basis"), v))
                                    for v in verdicts]


def comparable(cfg) -> bool:
    """Verdicts only mean something for the original's configuration."""
    from jaxbespoke.protocol import PooledConfig

    return replace(cfg, skip_absent_tiers=True) == PooledConfig()


def markdown(cfg, res, seeds, floor, summary, ratio, verdicts, dev, timing, cmd) -> str:
    std, bes = res["models"]["standard"], res["models"]["bespoke"]
    o, f = summary["original"], summary["full"]
    lines = [f"# 50-epoch convergence replication ({len(seeds)} seeds)", "",
             f"Command: `{cmd}`  ", f"Device: {device.banner(dev)}  ",
             f"Time: compile {timing['compile_s']:.1f} s, run {timing['run_s']:.1f} s, "
             f"total {timing['total_s']:.1f} s", "",
             f"Config: V={cfg.vocab_size}, D={cfg.embed_dim}, T={cfg.window}, B={cfg.batch}, "
             f"N={cfg.corpus_size}, Zipf s={cfg.zipf}, {cfg.epochs} epochs x {cfg.steps_per_epoch} "
             f"batches, Adam lr {cfg.lr}, layout {cfg.layout}.", "",
             f"Entropy floor H = **{floor['entropy']:.4f}** nats: the best expected loss of any "
             "predictor of these i.i.d. tokens. The original's 'final loss' averages 80 targets, so "
             f"even at the floor one draw has SE {floor['original_estimator_se']:.3f}.", "",
             "## Verdicts on the reported figures", "",
             report.md_table(["figure", "reported", "measured (mean)", "verdict", "basis"],
                             [[v["figure"], v["reported"], v["measured"], v["verdict"], v["basis"]]
                              for v in verdicts]), "",
             "## Final losses (mean [95% CI] over seeds)", "",
             report.md_table(
                 ["estimator", "standard", "bespoke", "bespoke - standard (paired)", "p (paired t)",
                  "true p on same targets"],
                 [["original (80 targets)", report.fmt_ci(o["standard"]), report.fmt_ci(o["bespoke"]),
                   report.fmt_ci(o["difference"]), f"{o['difference']['p_value']:.3g}",
                   report.fmt_ci(o["oracle"])],
                  ["full validation (all windows)", report.fmt_ci(f["standard"]),
                   report.fmt_ci(f["bespoke"]), report.fmt_ci(f["difference"]),
                   f"{f['difference']['p_value']:.3g}", report.fmt_ci(f["oracle"])]]), "",
             "Excess over the generating distribution on the same full-validation targets (what "
             f"training could still gain): standard {report.fmt_ci(f['standard_excess'])}, "
             f"bespoke {report.fmt_ci(f['bespoke_excess'])}.", "",
             f"Parameters: standard {std['params']:,}, bespoke {bes['params']:,} ({ratio:.2f}x).  ",
             f"Seeds whose 80-target loss fell below the floor: standard "
             f"{o['fraction_below_floor']['standard']:.0%}, bespoke "
             f"{o['fraction_below_floor']['bespoke']:.0%}.", ""]
    return "\n".join(lines)


def plot(path, cfg, res, seeds, floor, finals) -> None:
    fig, (ax1, ax2) = report._plt().subplots(1, 2, figsize=(12, 4.4),
                                             gridspec_kw={"width_ratios": [3, 2]})
    curves = {}
    for kind, m in res["models"].items():
        for key, label in (("val_original", "80-target"), ("val_full", "full val")):
            curves[f"{kind}, {label}"] = (np.array(m["eval_epochs"]) + 1, m["history"][key])
    report.curves_on(ax1, curves, xlabel="epoch", ylabel="validation loss (nats)",
                     title=f"Validation loss, {len(seeds)} seeds (mean, 95% CI)",
                     hlines={f"entropy floor {floor['entropy']:.3f}": floor["entropy"]},
                     points={"reported (one draw each)": ([cfg.epochs, cfg.epochs],
                                                          [REPORTED["standard_final_loss"],
                                                           REPORTED["bespoke_final_loss"]])})
    diff = {f"{est}\n({'80 targets' if est == 'original' else 'all windows'})":
            finals[est]["bespoke"] - finals[est]["standard"] for est in ("original", "full")}
    report.strips_on(ax2, diff, ylabel="bespoke - standard, final loss (nats)",
                     title="Paired difference per seed (dot), mean and 95% CI",
                     marks={"reported +0.016": REPORTED["bespoke_final_loss"]
                            - REPORTED["standard_final_loss"], "no difference": 0.0})
    report.save(fig, path)


def main(argv=None) -> int:
    args = parse(argv)
    from jaxbespoke import protocol

    cfg = build_config(args)
    dev = device.setup(args)
    out = args.out or Path("results") / NAME
    seeds = list(range(args.seed_base, args.seed_base + args.seeds))
    cmd = " ".join(["python experiments/convergence.py"] + (argv if argv is not None else sys.argv[1:]))
    print(device.banner(dev))
    print(f"Config: V={cfg.vocab_size}, D={cfg.embed_dim}, T={cfg.window}, B={cfg.batch}, "
          f"N={cfg.corpus_size}, s={cfg.zipf}, {cfg.epochs} epochs x {cfg.steps_per_epoch} batches, "
          f"{len(seeds)} seeds, layout {cfg.layout}")
    floor = protocol.floor(cfg)
    t0 = time.perf_counter()
    diverged = None
    try:
        res = protocol.run_pooled(cfg, seeds, progress=not args.no_progress)
    except TrainingDiverged as e:
        diverged = e
        res = None
    wall = time.perf_counter() - t0
    base = {"config": protocol.config_dict(cfg), "device": dev, "seeds": seeds,
            "entropy_floor": floor["entropy"], "floor": floor, "reported": REPORTED}
    if diverged is not None:
        print(f"error: {diverged}", file=sys.stderr)
        hist = diverged.partial
        base.update(status="diverged", diverged={"epoch": diverged.epoch + 1, "seeds": diverged.seeds},
                    partial=hist.arrays() if hist else None)
        report.write_json(out / f"{NAME}.json", base)
        print(f"partial results written to {out / (NAME + '.json')}", file=sys.stderr)
        return 1

    tl = res["tiers"][0]
    sizes = np.array([t.sizes for t in res["tiers"]])
    mass = np.array([t.mass() for t in res["tiers"]])
    print(f"Tiers (seed {seeds[0]}): high {tl.sizes[0]}, mid {tl.sizes[1]}, low {tl.sizes[2]}; "
          f"token mass over seeds: high {mass[:, 0].mean():.3f}, mid {mass[:, 1].mean():.3f}, "
          f"low {mass[:, 2].mean():.4f}; observed types {np.mean([t.order.size for t in res['tiers']]):.1f}")
    std, bes = res["models"]["standard"], res["models"]["bespoke"]
    print(f"Parameters: Standard {std['params']:,}, Bespoke {bes['params']:,} "
          f"({bes['params'] / std['params']:.2f}x)")
    print("\nValidation loss, original estimator (mean over seeds):")
    for j, e in enumerate(std["eval_epochs"]):
        print(f"  Epoch {e + 1:>3}: standard {std['history']['val_original'][:, j].mean():.4f}   "
              f"bespoke {bes['history']['val_original'][:, j].mean():.4f}")
    summary, finals, ratio, verdicts = summarise(cfg, res, seeds, floor)
    timing = {"compile_s": sum(t["compile_s"] for t in res["timing"].values()),
              "run_s": sum(t["run_s"] for t in res["timing"].values()), "total_s": wall,
              "per_model": res["timing"]}
    o, f = summary["original"], summary["full"]
    print(f"\nEntropy floor H = {floor['entropy']:.4f} nats; SE of one 80-target estimate at the floor "
          f"= {floor['original_estimator_se']:.3f}")
    print(f"Final loss, original 80-target estimator: standard {report.fmt_ci(o['standard'])}, "
          f"bespoke {report.fmt_ci(o['bespoke'])}, paired diff {report.fmt_ci(o['difference'])}")
    print(f"Final loss, full validation (all windows): standard {report.fmt_ci(f['standard'])}, "
          f"bespoke {report.fmt_ci(f['bespoke'])}, paired diff {report.fmt_ci(f['difference'])} "
          f"(p = {f['difference']['p_value']:.3g})")
    print(f"Excess over the true distribution on the same targets (full): standard "
          f"{report.fmt_ci(f['standard_excess'])}, bespoke {report.fmt_ci(f['bespoke_excess'])}")
    print("\nReported figure                          reported   measured   verdict")
    for v in verdicts:
        fmt = (lambda x: f"{x:,}") if isinstance(v["reported"], int) else (lambda x: f"{x:.4f}")
        print(f"  {v['figure']:<38} {fmt(v['reported']):>9}  {fmt(v['measured']):>9}   {v['verdict']}")
    print(f"\nTime: compile {timing['compile_s']:.1f} s, run {timing['run_s']:.1f} s, "
          f"total {wall:.1f} s")

    plot(out / f"{NAME}.png", cfg, res, seeds, floor, finals)
    result = dict(base, status="ok",
                  params={"standard": std["params"], "bespoke": bes["params"], "ratio": ratio},
                  tiers={"sizes": sizes, "mass": mass},
                  final_val_loss={k: finals["original"][k] for k in ("standard", "bespoke")},
                  full_val_loss={k: finals["full"][k] for k in ("standard", "bespoke")},
                  summary=summary, verdicts=verdicts, timing=timing, command=cmd,
                  curves={k: {"eval_epochs": m["eval_epochs"], **m["history"]}
                          for k, m in res["models"].items()})
    report.write_result(out, NAME, result, markdown(cfg, res, seeds, floor, summary, ratio,
                                                    verdicts, dev, timing, cmd))
    print(f"Wrote {out / (NAME + '.json')}, .md, .png")
    return 0


if __name__ == "__main__":
    cli.run_main(main)
