"""Embedding strategies at equal parameter budgets on real text: a small causal LM whose input
embedding is standard, factorised (ALBERT), bespoke (replica / compact), adaptive input or
mixed-dimension, each sized to the same embedding-parameter budget, several seeds each.

Every strategy of a seed sees the same batches and the same body/head initialisation, so
differences between strategies are paired per seed. The command line is
jaxbespoke.scripts.embedding_strategies (`python experiments/embedding_strategies.py`).
"""

from __future__ import annotations

import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from jaxbespoke.utils import cli, device, report, stats
from jaxbespoke.utils.errors import ConfigError, TrainingDiverged


NAME = "embedding_strategies"


@dataclass(frozen=True)
class Config:
    source: str = "pydoc"
    vocab_cap: int = 2048
    cutoffs: tuple[float, float] = (0.05, 0.25)   # rank fractions: high = top 5%, mid = next 20%
    width: int = 64
    layers: int = 2
    heads: int = 2
    window: int = 32
    batch: int = 16
    epochs: int = 4
    steps_per_epoch: int = 60
    lr: float = 2e-3
    budgets: tuple[float, ...] = (0.5, 1.0)        # fractions of the standard V x D table
    strategies: tuple[str, ...] = ("standard", "factorised", "bespoke_replica",
                                   "bespoke_compact", "adaptive", "mixed")
    # bespoke_compact (high, low) multipliers at sweep_budget; (2, 1/4) is in the main grid
    sweep: tuple[tuple[float, float], ...] = ((1.0, 1.0), (4.0, 0.25))
    sweep_budget: float = 0.5
    eval_tokens: int = 0                           # 0 = the whole validation split
    eval_chunk: int = 32                           # windows per evaluation chunk (memory)
    init: str = "torch"                            # 'torch' (N(0,1) tables) or 'normal02'

    def __post_init__(self):
        for name in ("vocab_cap", "width", "layers", "heads", "window", "batch", "epochs",
                     "steps_per_epoch", "eval_chunk"):
            v = getattr(self, name)
            if not isinstance(v, int) or v < 1:
                raise ConfigError(f"{name.replace('_', ' ')} must be a whole number >= 1, got {v!r}")
        if self.init not in ("torch", "normal02"):
            raise ConfigError(f"unknown init {self.init!r}; expected 'torch' or 'normal02'")
        if not self.budgets or any(not b > 0 for b in self.budgets):
            raise ConfigError(f"budgets must be positive fractions of V x D, got {self.budgets}")


QUICK: dict[str, Any] = dict(vocab_cap=256, width=64, layers=1, heads=2, window=8, batch=4, epochs=2,
                              steps_per_epoch=3, budgets=(0.5, 1.0),
                              strategies=("standard", "adaptive"), sweep=(), eval_tokens=512,
                              eval_chunk=16)


def build_task(cfg: Config, n_tiers: int):
    import jax
    import jax.numpy as jnp

    from jaxbespoke.nn.losses import lm_loss
    from jaxbespoke.training.train import Task

    T, B = cfg.window, cfg.batch

    def sample(key, data, step):
        train = data["train"]
        s_B = jax.random.randint(key, (B,), 0, train.shape[0] - T)
        w_BT1 = train[s_B[:, None] + jnp.arange(T + 1)]
        return w_BT1[:, :-1], w_BT1[:, 1:]

    def loss(model, batch):
        x_BT, y_BT = batch
        return lm_loss(model(x_BT), y_BT)

    def evaluate(model, key, data):
        return eval_sums(model, data, n_tiers)

    return Task(sample=sample, loss=loss, evaluate=evaluate)


def eval_sums(model, data, n_tiers: int) -> dict:
    """Summed cross-entropy and token counts over the validation windows, overall and per tier of
    the target token and per tier of the input token (each set of tiers partitions the tokens, so
    its sums add up to the overall sum)."""
    import jax
    import jax.numpy as jnp
    import optax

    tier_V = data["tier_V"]

    def chunk(args):
        x, y, m = args
        ce = optax.softmax_cross_entropy_with_integer_labels(model(x), y) * m
        one_y = jax.nn.one_hot(tier_V[y], n_tiers) * m[..., None]
        one_x = jax.nn.one_hot(tier_V[x], n_tiers) * m[..., None]
        return (ce.sum(), m.sum(), jnp.einsum("ct,ctk->k", ce, one_y), one_y.sum((0, 1)),
                jnp.einsum("ct,ctk->k", ce, one_x), one_x.sum((0, 1)))

    parts = jax.lax.map(chunk, (data["val_x"], data["val_y"], data["val_m"]))
    s, n, st, nt, si, ni = (p.sum(0) for p in parts)
    return {"loss": s / n, "n": n, "tier_sum": st, "tier_n": nt, "in_tier_sum": si,
            "in_tier_n": ni}


def eval_windows(val: np.ndarray, window: int, chunk: int, max_tokens: int = 0):
    """Non-overlapping windows over the validation split, padded to whole chunks with a mask."""
    if max_tokens:
        val = val[: max_tokens + 1]
    n_w = (val.size - 1) // window
    if n_w < 1:
        raise ConfigError(f"validation split has {val.size} tokens, too short for a window of "
                          f"{window}")
    x = val[: n_w * window].reshape(n_w, window)
    y = val[1: n_w * window + 1].reshape(n_w, window)
    pad = -n_w % chunk
    m = np.concatenate([np.ones((n_w, window)), np.zeros((pad, window))]).astype(np.float32)
    x, y = (np.concatenate([a, np.zeros((pad, window), a.dtype)]) for a in (x, y))
    shape = (-1, chunk, window)
    return x.reshape(shape), y.reshape(shape), m.reshape(shape)


def prepare(cfg: Config, cache_dir=None):
    from jaxbespoke.nn import strategies
    from jaxbespoke.data import text, tiers

    corpus = text.load(cfg.source, cfg.vocab_cap, cache_dir=cache_dir)
    train, val, test = corpus.splits()
    V = corpus.vocab_size
    t = tiers.rank_fractions(train, V, cfg.cutoffs, unseen=len(cfg.cutoffs))
    bands = strategies.Bands.from_tiers(t)
    counts = np.bincount(train, minlength=V)
    info = {
        "name": corpus.name, "tokens": int(corpus.ids.size), "vocabulary": V,
        "zipf_exponent": text.zipf_exponent(counts, skip=len(text.SPECIALS)),
        "splits": {"train": int(train.size), "val": int(val.size), "test": int(test.size)},
        "unk_rate": float((corpus.ids == text.UNK).mean()),
        "tiers": {name: {"types": bands.sizes[k], "train_coverage": bands.mass[k],
                         "val_coverage": text.coverage(val, bands.tier_V, len(bands.names))[k]}
                  for k, name in enumerate(bands.names)},
    }
    # the context-free reference: a unigram model fitted on train (add-one smoothed)
    p = (counts + 1) / (counts.sum() + V)
    info["unigram_val_ppl"] = float(np.exp(-np.log(p[val]).mean()))
    return corpus, (train, val, test), bands, info


def run_one(cfg: Config, plan, bands, data, seeds, *, progress: bool, desc: str) -> dict:
    import jax
    from flax import nnx

    from jaxbespoke.nn.embeddings import param_count
    from jaxbespoke.nn.gpt import GPTConfig
    from jaxbespoke.nn.lm import EmbeddingLM
    from jaxbespoke.training import streams
    from jaxbespoke.training.fit import fit_seeds
    from jaxbespoke.training.train import OptimConfig, TrainConfig

    gcfg = GPTConfig(vocab_size=plan.vocab_size, block_size=cfg.window, n_layer=cfg.layers,
                     n_head=cfg.heads, n_embd=cfg.width, init=cfg.init)

    def make_model(key):
        k_emb, k_body = jax.random.split(key)
        return EmbeddingLM(plan.build(bands, rngs=nnx.Rngs(k_emb), init=cfg.init), gcfg,
                           rngs=nnx.Rngs(k_body))

    # rbg keys: XLA:CPU compiles threefry-heavy init programs ~2x slower
    keys = streams.seed_keys(seeds, impl="rbg")
    shape = nnx.eval_shape(lambda: make_model(keys[0]))   # check the formula before training
    if param_count(shape.embed) != plan.params:
        raise AssertionError(f"{desc}: module has {param_count(shape.embed)} embedding "
                             f"parameters, formula {plan.params}")
    task = build_task(cfg, len(bands.names))
    tcfg = TrainConfig(epochs=cfg.epochs, steps_per_epoch=cfg.steps_per_epoch,
                       optim=OptimConfig("adamw", lr=cfg.lr, weight_decay=0.01, clip_norm=1.0,
                                         schedule="cosine_epoch"))
    train_keys = streams.fold(keys, streams.STRATEGY_TRAIN)
    res = fit_seeds(lambda k: make_model(jax.random.fold_in(k, streams.STRATEGY_INIT)), keys,
                    task, tcfg, data, train_keys, seeds, progress=progress, desc=desc)
    t_eval = time.perf_counter()
    ev = res.trainer.evaluate(res.state.params, res.state.rest, data, train_keys, cfg.epochs - 1)
    eval_s = time.perf_counter() - t_eval
    tokens = len(seeds) * cfg.epochs * cfg.steps_per_epoch * cfg.batch * cfg.window
    model0, t = res.model(0), res.timing
    return {"params": param_count(model0.embed), "model_params": param_count(model0), "eval": ev,
            "train_loss": res.history.arrays()["train_loss"], "compile_s": t.compile_s,
            "run_s": t.run_s, "init_s": t.init_s, "eval_s": eval_s,
            "tokens_per_s": tokens / t.run_s}


def summarise(strategy, budget_frac, plan, res, names, extra=None) -> dict:
    ev = res["eval"]
    loss_S = np.asarray(ev["loss"], np.float64)
    tier_mean = ev["tier_sum"] / ev["tier_n"]
    in_mean = ev["in_tier_sum"] / ev["in_tier_n"]
    # bookkeeping: the count-weighted tier losses must give back the overall loss
    recon = (ev["tier_sum"].sum(1) / ev["tier_n"].sum(1), ev["in_tier_sum"].sum(1) /
             ev["in_tier_n"].sum(1))
    gap = float(max(np.abs(r - loss_S).max() for r in recon))
    row = {
        "strategy": strategy, "budget": int(plan.budget), "budget_frac": budget_frac,
        "dims": list(plan.dims), "params": res["params"], "model_params": res["model_params"],
        "val_loss": {**stats.mean_ci(loss_S), "values": loss_S.tolist()},
        "val_ppl": {**stats.mean_ci(np.exp(loss_S)), "values": np.exp(loss_S).tolist()},
        "tier_loss": {n: {**stats.mean_ci(tier_mean[:, k]), "values": tier_mean[:, k].tolist()}
                      for k, n in enumerate(names)},
        "input_tier_loss": {n: {**stats.mean_ci(in_mean[:, k]), "values": in_mean[:, k].tolist()}
                            for k, n in enumerate(names)},
        "tier_bookkeeping_gap": gap,
        "tokens_per_s": res["tokens_per_s"], "compile_s": res["compile_s"],
        "run_s": res["run_s"], "init_s": res["init_s"], "eval_s": res["eval_s"],
        "final_train_loss": np.asarray(res["train_loss"])[:, -1].tolist(),
    }
    row.update(extra or {})
    return row


def paired_vs(rows, base: dict, metric="val_loss") -> list[str]:
    out = []
    for r in rows:
        if r is base or r["budget"] != base["budget"] or len(r[metric]["values"]) < 2:
            continue
        d = stats.paired_difference(base[metric]["values"], r[metric]["values"])
        lo, hi = d["ci95"]
        word = ("indistinguishable from" if lo <= 0 <= hi else "lower than" if hi < 0
                else "higher than")
        out.append(f"- budget {r['budget_frac']:g}: `{r['label']}` val loss is {word} "
                   f"`{base['label']}` (difference {d['mean']:+.4f} nats, 95% CI "
                   f"[{lo:+.4f}, {hi:+.4f}], p = {d['p_value']:.2g})")
    return out


def plots(out: Path, rows, names) -> list[str]:
    plt = report._plt()
    files = []
    fig, ax = plt.subplots(figsize=(7, 4.4))
    main = [r for r in rows if not r.get("sweep")]
    for strat in dict.fromkeys(r["strategy"] for r in main):
        rs = sorted((r for r in main if r["strategy"] == strat), key=lambda r: r["params"])
        x = [r["params"] for r in rs]
        y = [r["val_ppl"]["mean"] for r in rs]
        lo_hi = [[r["val_ppl"]["mean"] - r["val_ppl"]["ci95"][0] for r in rs],
                 [r["val_ppl"]["ci95"][1] - r["val_ppl"]["mean"] for r in rs]]
        err = np.nan_to_num(np.asarray(lo_hi))
        ax.errorbar(x, y, yerr=err, marker="o", capsize=3, label=strat)
    sw = [r for r in rows if r.get("sweep")]
    if sw:
        ax.scatter([r["params"] for r in sw], [r["val_ppl"]["mean"] for r in sw], marker="x",
                   color="k", label="bespoke_compact multiplier sweep")
    ax.set_xlabel("input-embedding parameters")
    ax.set_ylabel("validation perplexity (mean, 95% CI)")
    ax.set_title("parameters vs perplexity (same seeds and batches for every strategy)",
                 fontsize=10)
    ax.legend(fontsize=7, loc="upper right", ncol=2)
    report.save(fig, out / f"{NAME}.png")
    files.append(f"{NAME}.png")

    # one panel per tier, each on its own scale: the tiers' losses differ by ~5 nats, the
    # strategies by ~0.1, so shared bars from zero would hide every difference
    fig, axes = plt.subplots(2, len(names), figsize=(4.2 * len(names), 7.5))
    labels = [f"{r['label']} @{r['budget_frac']:g}" for r in rows]
    colors = {f: c for f, c in zip(dict.fromkeys(r["budget_frac"] for r in rows),
                                   ("tab:blue", "tab:orange", "tab:green", "tab:red"))}
    for i, (key, what) in enumerate((("tier_loss", "target"), ("input_tier_loss", "input"))):
        for k, n in enumerate(names):
            ax = axes[i, k]
            for j, r in enumerate(rows):
                st = r[key][n]
                err = np.nan_to_num([[st["mean"] - st["ci95"][0]], [st["ci95"][1] - st["mean"]]])
                ax.errorbar(st["mean"], j, xerr=err, fmt="o", capsize=3,
                            color=colors[r["budget_frac"]])
            ax.set_yticks(range(len(rows)), labels if k == 0 else [""] * len(rows), fontsize=7)
            ax.invert_yaxis()
            ax.set_xlabel("validation cross-entropy (nats)", fontsize=8)
            ax.set_title(f"{what} token in tier '{n}'", fontsize=9)
            ax.grid(axis="x", alpha=0.3)
    fig.suptitle("loss by frequency tier (mean, 95% CI over seeds; colour = budget)", fontsize=10)
    report.save(fig, out / f"{NAME}_tiers.png")
    files.append(f"{NAME}_tiers.png")
    return files


def markdown(cfg, info, rows, dev, seeds, runtime_s, argv, names) -> str:
    def ci(s, d=2):
        return report.fmt_ci(s, d) if s["n"] > 1 else f"{s['mean']:.{d}f}"

    L = [f"# Embedding strategies at equal parameter budgets ({info['name']})", "",
         f"Command: `.venv/bin/python experiments/{NAME}.py {' '.join(argv)}`  ",
         f"Device: {device.banner(dev)}; seeds {seeds}; wall time {runtime_s / 60:.1f} min.", "",
         "## Corpus", "",
         f"{info['tokens']:,} word tokens, vocabulary {info['vocabulary']} (cap, with `<unk>` "
         f"{info['unk_rate']:.1%} of tokens), fitted Zipf exponent {info['zipf_exponent']:.3f}; "
         f"contiguous splits train/val/test = {info['splits']['train']}/{info['splits']['val']}/"
         f"{info['splits']['test']}. A context-free unigram model (add-one, fitted on train) has "
         f"validation perplexity {info['unigram_val_ppl']:.1f}; real text has no known floor.", "",
         report.md_table(["tier", "types", "train coverage", "val coverage"],
                         [[n, t["types"], f"{t['train_coverage']:.1%}", f"{t['val_coverage']:.1%}"]
                          for n, t in info["tiers"].items()]), "",
         "## Model and budgets", "",
         f"Causal pre-LN LM: {cfg.layers} layers, {cfg.heads} heads, width {cfg.width}, window "
         f"{cfg.window}, batch {cfg.batch}, {cfg.epochs * cfg.steps_per_epoch} AdamW steps "
         f"(lr {cfg.lr}, cosine per epoch, clip 1.0), init `{cfg.init}`. Positions, blocks and "
         "an untied bias-free head to V are the same for every strategy, so they differ only in "
         "the input embedding. "
         f"Budgets are fractions {list(cfg.budgets)} of the standard V x D table "
         f"({info['vocabulary'] * cfg.width:,} parameters); every strategy is sized to within 2% "
         "(standard below 1.0 is a narrower table zero-padded to D).", "",
         "## Results", "",
         "Val perplexity and loss by target-token tier (nats): mean [95% CI] over seeds. "
         "Tokens/s: training throughput of all seeds together (vmapped), excluding compilation.",
         ""]
    head = (["strategy", "budget", "dims", "emb params", "val ppl"] +
            [f"loss {n}" for n in names] + ["tokens/s"])
    body = [[r["label"], f"{r['budget_frac']:g}", "/".join(map(str, r["dims"])), r["params"],
             ci(r["val_ppl"])] + [ci(r["tier_loss"][n], 3) for n in names] +
            [f"{r['tokens_per_s']:,.0f}"] for r in rows]
    L += [report.md_table(head, body), "",
          "Loss by tier of the input token (the token whose embedding differs):", "",
          report.md_table(["strategy", "budget"] + [f"loss after {n}" for n in names],
                          [[r["label"], f"{r['budget_frac']:g}"] +
                           [ci(r["input_tier_loss"][n], 3) for n in names] for r in rows]), ""]
    L += ["## Paired differences (same seeds, same batches)", ""]
    for frac in cfg.budgets:
        base = next((r for r in rows if r["strategy"] == "standard" and r["budget_frac"] == frac
                     and not r.get("sweep")), None)
        if base is not None:
            L += paired_vs([r for r in rows if r["budget_frac"] == frac], base)
    L += ["", f"Per-tier bookkeeping: the count-weighted tier losses reproduce the overall loss to "
          f"{max(r['tier_bookkeeping_gap'] for r in rows):.2g} nats (largest gap).", "",
          f"![pareto]({NAME}.png)", "", f"![tiers]({NAME}_tiers.png)", ""]
    return "\n".join(L)


def check_combinable(runs: list, paths) -> None:
    """Only runs of the same corpus, vocabulary and training setup may be combined (they may
    differ in init, strategies and budgets); ConfigError naming the file and what differs."""
    need = ("seeds", "rows", "config")
    for run, path in zip(runs, paths):
        if not isinstance(run, dict) or any(k not in run for k in need):
            raise ConfigError(f"--combine {path}: not an {NAME}.json result (needs "
                              f"{', '.join(need)})")
    first, p0 = runs[0], paths[0]
    for run, path in zip(runs[1:], paths[1:]):
        for part, keys in (("corpus", ("name", "tokens", "vocabulary")),
                           ("config", tuple(k for k in first["config"]
                                            if k not in ("init", "strategies", "budgets",
                                                         "sweep", "sweep_budget")))):
            a, b = first.get(part, {}), run.get(part, {})
            diff = [k for k in keys if a.get(k) != b.get(k)]
            if diff:
                k = diff[0]
                raise ConfigError(f"--combine: {path} and {p0} differ in {part} {k} "
                                  f"({b.get(k)!r} vs {a.get(k)!r}); only runs "
                                  "on the same corpus, vocabulary and setup can be combined")


def combine(paths: list[Path]) -> str:
    """Best initialisation per (strategy, budget) over several runs (same seeds and batches), and
    paired differences against the best standard at the same budget. The choice is made on the
    validation loss that is also reported, which flatters every strategy alike."""
    runs = [cli.read_json(p, "--combine") for p in paths]
    check_combinable(runs, paths)
    seeds = {tuple(r["seeds"]) for r in runs}
    if len(seeds) != 1:
        raise ConfigError(f"runs to combine must share their seeds, got {sorted(seeds)}")
    best: dict = {}
    for run in runs:
        for r in run["rows"]:
            k = (r["label"], r["budget_frac"])
            r = {**r, "init": run["config"].get("init", "torch")}  # older runs: torch
            if k not in best or r["val_loss"]["mean"] < best[k]["val_loss"]["mean"]:
                best[k] = r
    L = ["| strategy | budget | best init | dims | emb params | val ppl | paired loss diff vs "
         "best standard | p |", "|---|---|---|---|---|---|---|---|"]
    for (label, frac), r in sorted(best.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        base = best.get(("standard", frac))
        diff, p = "–", "–"
        if base is not None and base is not r:
            d = stats.paired_difference(base["val_loss"]["values"], r["val_loss"]["values"])
            diff = f"{d['mean']:+.4f} [{d['ci95'][0]:+.4f}, {d['ci95'][1]:+.4f}]"
            p = f"{d['p_value']:.2g}"
        L.append(f"| {label} | {frac:g} | {r['init']} | {'/'.join(map(str, r['dims']))} | "
                 f"{r['params']} | {report.fmt_ci(r['val_ppl'], 2)} | {diff} | {p} |")
    return "\n".join(L) + "\n"


def run(cfg: Config, seeds: list[int], dev: dict, out: Path, *, cache_dir: Path | None,
        progress: bool, argv: list[str]) -> int:
    """Train every (strategy, budget) configuration of cfg over seeds and write NAME.json, .md and
    the plots to out; exit status 0, or 1 if a configuration diverged (what finished is kept)."""
    import jax.numpy as jnp

    from jaxbespoke.nn import strategies

    t_start = time.perf_counter()
    corpus, (train, val, _), bands, info = prepare(cfg, cache_dir)
    V, D = corpus.vocab_size, cfg.width
    if train.size < cfg.window + 2:
        raise ConfigError(f"training split has {train.size} tokens, too short for a window of "
                          f"{cfg.window}")
    S = len(seeds)
    L, T, W = cfg.layers, cfg.window, cfg.width  # weights + AdamW + grads, a batch, an eval chunk
    cli.check_memory(4.0 * S * (4 * (12 * L * W * W + 2 * V * W) + 2 * cfg.batch * T * (
        L * 16 * W + 2 * V) + 3 * cfg.eval_chunk * T * V + 2 * corpus.ids.size),
        f"{S} seeds of V={V}, width {W}, {L} layers")
    vx, vy, vm = eval_windows(val, cfg.window, cfg.eval_chunk, cfg.eval_tokens)
    data = {k: jnp.asarray(np.broadcast_to(a, (S,) + a.shape)) for k, a in
            (("train", train), ("val_x", vx), ("val_y", vy), ("val_m", vm),
             ("tier_V", bands.tier_V))}
    jobs = []
    for frac in cfg.budgets:
        budget = int(round(frac * V * D))
        for strat in cfg.strategies:
            jobs.append((strat, frac, strategies.size(strat, budget, V, D, bands), False))
    for hi, lo in cfg.sweep:
        budget = int(round(cfg.sweep_budget * V * D))
        opts = strategies.Options(high=hi, low=lo)
        jobs.append(("bespoke_compact", cfg.sweep_budget,
                     strategies.size("bespoke_compact", budget, V, D, bands, opts), True))
    print(f"{device.banner(dev)}; {len(jobs)} configurations x {S} seeds; corpus "
          f"{info['name']} ({info['tokens']} tokens, V={V}, zipf {info['zipf_exponent']:.3f})",
          flush=True)
    rows: list[dict] = []
    for strat, frac, plan, is_sweep in jobs:
        label = (f"{strat}({plan.options.high:g},{plan.options.low:g})"
                 if strat.startswith("bespoke") else strat)
        try:
            res = run_one(cfg, plan, bands, data, seeds, progress=progress,
                          desc=f"{label}@{frac:g}")
        except TrainingDiverged as e:  # keep the configurations that finished
            e.completed = {"models": {f"{r['label']}@{r['budget_frac']:g}": r for r in rows}}
            print(f"error: {e}", file=sys.stderr)
            report.write_diverged(out, NAME, {"name": NAME, "config": asdict(cfg), "device": dev,
                                              "seeds": seeds, "corpus": info, "argv": argv},
                                  e, owned=(f"{NAME}.png", f"{NAME}_tiers.png"))
            return 1
        row = summarise(strat, frac, plan, res, bands.names,
                        {"label": label, "sweep": is_sweep,
                         "multipliers": [plan.options.high, plan.options.low]})
        rows.append(row)
        print(f"  {label:24s} budget {frac:<4g} dims {str(plan.dims):16s} params "
              f"{row['params']:7d}  val ppl {row['val_ppl']['mean']:8.2f}  "
              f"{row['tokens_per_s']:9.0f} tok/s  (compile {res['compile_s']:.1f}s, "
              f"run {res['run_s']:.1f}s)", flush=True)
    runtime = time.perf_counter() - t_start
    result = {"name": NAME, "config": asdict(cfg), "device": dev, "seeds": seeds,
              "corpus": info, "rows": rows, "runtime_s": runtime, "argv": argv}
    report.write_json(out / f"{NAME}.json", result)
    files = plots(out, rows, bands.names)
    report.write_atomic(out / f"{NAME}.md",
                        markdown(cfg, info, rows, dev, seeds, runtime, argv, bands.names))
    print(f"wrote {out / (NAME + '.json')}, {NAME}.md, {', '.join(files)} "
          f"({runtime / 60:.1f} min)")
    return 0


