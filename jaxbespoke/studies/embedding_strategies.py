"""Embedding strategies at equal parameter budgets on real text, tuned and tested as a referee
would want it.

A small causal LM (pre-LN blocks, learned positions, untied bias-free head) whose input embedding
is standard, factorised (ALBERT), bespoke (replica / compact), adaptive input or mixed-dimension,
each sized to the same embedding-parameter budget. The design, fixed before any run:

* **One thing varies.** Body and head are initialised by one scheme (`body_init`) from the same
  key for every strategy and arm of a seed, and every model of a seed sees the same batches; the
  embedding's own initialisation (`emb_inits`: torch's N(0, 1) tables with torch Linear
  projections, or N(0, 0.02) tables and projections) is the only other difference.
* **Every strategy tuned the same way, on data it is not judged on.** Phase 1 (tuning): each
  (embedding init, learning rate) pair of the grid is trained on `tune_seeds` seeds that are
  not among the reported seeds; for each init the learning rate with the lowest mean validation
  loss (best epoch) is kept, and the init with the lower tuned validation loss is the strategy's
  choice. Phase 2 (report): the reported seeds train both inits at their tuned learning rates;
  each model stops at its own best validation epoch, and its **test** loss there is what is
  compared. The test split is never used for a choice.
* **Pre-declared comparisons** (`FAMILIES`), paired by seed, Holm-corrected within each family;
  "no worse / as good as" only through TOST with the stated `margin` (nats).

The learning-rate sweep, the two inits and the seeds of one phase are one vmapped program
(`fit_seeds` with a per-model `lr_scale`). Results are kept per configuration under
`<out>/parts/`, so an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from jaxbespoke.nn.strategies import STRATEGIES   # the registry: a new strategy runs here too
from jaxbespoke.utils import device, report, stats
from jaxbespoke.utils.errors import ConfigError, TrainingDiverged

NAME = "embedding_strategies"
ALPHA = 0.05


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
    epochs: int = 6                               # evaluated after every epoch
    steps_per_epoch: int = 60
    lrs: tuple[float, ...] = (1e-3, 3e-3, 9e-3, 2.7e-2)  # AdamW, cosine per epoch, clip 1.0, decay 0.01
    emb_inits: tuple[str, ...] = ("torch", "normal02")
    body_init: str = "torch"
    budgets: tuple[float, ...] = (0.5, 1.0)       # fractions of the standard V x D table
    strategies: tuple[str, ...] = STRATEGIES
    tune_seeds: int = 2
    margin: float = 0.02                          # equivalence margin, nats (~2% perplexity)
    eval_tokens: int = 20_000                     # per split; 0 = the whole split
    eval_chunk: int = 32                          # windows per evaluation chunk (memory)

    def __post_init__(self):
        for name in ("vocab_cap", "width", "layers", "heads", "window", "batch", "epochs",
                     "steps_per_epoch", "eval_chunk", "tune_seeds"):
            v = getattr(self, name)
            if not isinstance(v, int) or v < 1:
                raise ConfigError(f"{name.replace('_', ' ')} must be a whole number >= 1, got {v!r}")
        for init in (*self.emb_inits, self.body_init):
            if init not in ("torch", "normal02"):
                raise ConfigError(f"unknown init {init!r}; expected 'torch' or 'normal02'")
        if not self.emb_inits or len(set(self.emb_inits)) != len(self.emb_inits):
            raise ConfigError(f"embedding inits must be distinct and non-empty, got {self.emb_inits}")
        if not self.lrs or any(not lr > 0 for lr in self.lrs):
            raise ConfigError(f"learning rates must be positive, got {self.lrs}")
        if not self.budgets or any(not b > 0 for b in self.budgets):
            raise ConfigError(f"budgets must be positive fractions of V x D, got {self.budgets}")
        bad = [s for s in self.strategies if s not in STRATEGIES]
        if bad or not self.strategies:
            raise ConfigError(f"unknown strategies {bad}; choose from {', '.join(STRATEGIES)}")
        if not self.margin > 0:
            raise ConfigError(f"the equivalence margin must be > 0 nats, got {self.margin!r}")


QUICK: dict[str, Any] = dict(vocab_cap=256, layers=1, window=8, batch=4, epochs=2,
                              steps_per_epoch=3, lrs=(1e-3, 3e-3), tune_seeds=1,
                              strategies=("standard", "adaptive"), eval_tokens=512, eval_chunk=16)


def setup_key(cfg: Config) -> str:
    """What a finished configuration's result depends on besides (strategy, budget, seeds): a
    part written under another setup is never reused."""
    d = {k: v for k, v in asdict(cfg).items() if k not in ("budgets", "strategies", "margin")}
    return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:16]


# --------------------------------------------------------------------------- data and task
def prepare(cfg: Config, cache_dir=None):
    """Corpus, contiguous train/val/test splits, frequency bands (from train) and a description."""
    from jaxbespoke.data import text, tiers
    from jaxbespoke.nn import strategies

    corpus = text.load(cfg.source, cfg.vocab_cap, cache_dir=cache_dir)
    train, val, test = corpus.splits()
    V = corpus.vocab_size
    bands = strategies.Bands.from_tiers(tiers.rank_fractions(train, V, cfg.cutoffs,
                                                             unseen=len(cfg.cutoffs)))
    counts = np.bincount(train, minlength=V)
    p = (counts + 1) / (counts.sum() + V)   # add-one unigram fitted on train: the context-free mark
    info = {
        "name": corpus.name, "tokens": int(corpus.ids.size), "vocabulary": V,
        "zipf_exponent": text.zipf_exponent(counts, skip=len(text.SPECIALS)),
        "splits": {"train": int(train.size), "val": int(val.size), "test": int(test.size)},
        "unk_rate": float((corpus.ids == text.UNK).mean()),
        "tiers": {name: {"types": bands.sizes[k], "train_coverage": bands.mass[k],
                         "test_coverage": text.coverage(test, bands.tier_V, len(bands.names))[k]}
                  for k, name in enumerate(bands.names)},
        "unigram_test_ppl": float(np.exp(-np.log(p[test]).mean())),
    }
    return corpus, (train, val, test), bands, info


def eval_windows(split: np.ndarray, window: int, chunk: int, max_tokens: int = 0):
    """Non-overlapping windows over a split, padded to whole chunks with a mask:
    x, y, m of shape (chunks, chunk, window)."""
    if max_tokens:
        split = split[: max_tokens + 1]
    n_w = (split.size - 1) // window
    if n_w < 1:
        raise ConfigError(f"a split of {split.size} tokens is too short for a window of {window}")
    x = split[: n_w * window].reshape(n_w, window)
    y = split[1: n_w * window + 1].reshape(n_w, window)
    pad = -n_w % chunk
    m = np.concatenate([np.ones((n_w, window)), np.zeros((pad, window))]).astype(np.float32)
    x, y = (np.concatenate([a, np.zeros((pad, window), a.dtype)]) for a in (x, y))
    shape = (-1, chunk, window)
    return x.reshape(shape), y.reshape(shape), m.reshape(shape)


def split_sums(model, x_CNT, y_CNT, m_CNT, tier_V, n_tiers: int) -> dict:
    """Summed cross-entropy over a split's windows: overall (`sum`, `n`), by tier of the target
    token (`tier_sum`, `tier_n`: (K,)) and by tier of the input token (`in_sum`, `in_n`). Each
    set of tiers partitions the tokens, so its sums add up to the overall sum."""
    import jax
    import jax.numpy as jnp

    from jaxbespoke.nn.losses import cross_entropy_each

    def chunk(args):
        x, y, m = args
        ce = cross_entropy_each(model(x), y) * m
        one_y = jax.nn.one_hot(tier_V[y], n_tiers) * m[..., None]
        one_x = jax.nn.one_hot(tier_V[x], n_tiers) * m[..., None]
        return (ce.sum(), m.sum(), jnp.einsum("nt,ntk->k", ce, one_y), one_y.sum((0, 1)),
                jnp.einsum("nt,ntk->k", ce, one_x), one_x.sum((0, 1)))

    parts = jax.lax.map(chunk, (x_CNT, y_CNT, m_CNT))
    keys = ("sum", "n", "tier_sum", "tier_n", "in_sum", "in_n")
    return dict(zip(keys, (p.sum(0) for p in parts)))


def build_task(cfg: Config, n_tiers: int):
    """Random windows of the train split; evaluation of the val and test splits."""
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
        out = {}
        for split in ("val", "test"):
            s = split_sums(model, data[f"{split}_x"], data[f"{split}_y"], data[f"{split}_m"],
                           data["tier_V"], n_tiers)
            out.update({f"{split}_{k}": v for k, v in s.items()})
            out[f"{split}_loss"] = s["sum"] / s["n"]
        return out

    return Task(sample=sample, loss=loss, evaluate=evaluate)


# --------------------------------------------------------------------------- one configuration
def model_factory(cfg: Config, plan, bands):
    """make_model(key, use02) -> EmbeddingLM: body and head from the key with cfg.body_init,
    whatever the strategy; the embedding from its own key, torch scheme or (use02, a traced
    bool, so one vmapped program can hold both) the normal02 scheme."""
    import jax
    import jax.numpy as jnp
    from flax import nnx

    from jaxbespoke.nn.gpt import GPTConfig
    from jaxbespoke.nn.lm import EmbeddingLM
    from jaxbespoke.training import streams

    gcfg = GPTConfig(vocab_size=plan.vocab_size, block_size=cfg.window, n_layer=cfg.layers,
                     n_head=cfg.heads, n_embd=cfg.width, init=cfg.body_init)

    def make_model(key, use02):
        k_emb, k_body = jax.random.split(jax.random.fold_in(key, streams.STRATEGY_INIT))
        emb = plan.build(bands, rngs=nnx.Rngs(k_emb), init="torch")
        emb02 = plan.build(bands, rngs=nnx.Rngs(k_emb), init="normal02")
        nnx.update(emb, jax.tree.map(lambda a, b: jnp.where(use02, b, a), nnx.state(emb),
                                     nnx.state(emb02)))
        return EmbeddingLM(emb, gcfg, rngs=nnx.Rngs(k_body))

    return make_model


def train_members(cfg: Config, plan, bands, data_np: dict, members: list[tuple[int, str, float]],
                  *, halt: bool, progress: bool, desc: str) -> dict:
    """Train one model per member (seed, embedding init, learning rate) in one vmapped program;
    per-member histories of every evaluated quantity (M, epochs, ...), timing and memory.
    halt: a diverging member raises TrainingDiverged (else its history keeps the NaN)."""
    import jax
    import jax.numpy as jnp
    from flax import nnx

    from jaxbespoke.nn.embeddings import param_count
    from jaxbespoke.training import streams
    from jaxbespoke.training.fit import fit_seeds
    from jaxbespoke.training.train import OptimConfig, TrainConfig

    M = len(members)
    make_model = model_factory(cfg, plan, bands)
    seeds = [s for s, _, _ in members]
    # rbg keys: XLA:CPU compiles threefry-heavy init programs ~2x slower
    keys = streams.seed_keys(seeds, impl="rbg")
    use02 = jnp.asarray([init == "normal02" for _, init, _ in members])
    shape = nnx.eval_shape(lambda: make_model(keys[0], use02[0]))
    if param_count(shape.embed) != plan.params:   # the formula, checked before any training
        raise AssertionError(f"{desc}: module has {param_count(shape.embed)} embedding "
                             f"parameters, formula {plan.params}")
    tcfg = TrainConfig(epochs=cfg.epochs, steps_per_epoch=cfg.steps_per_epoch,
                       eval_epochs=tuple(range(cfg.epochs)), halt_on_divergence=halt,
                       optim=OptimConfig("adamw", lr=1.0, weight_decay=0.01, clip_norm=1.0,
                                         schedule="cosine_epoch"))
    data = {k: jnp.asarray(np.broadcast_to(a, (M,) + a.shape)) for k, a in data_np.items()}
    res = fit_seeds(make_model, (keys, use02), build_task(cfg, len(bands.names)), tcfg, data,
                    streams.fold(keys, streams.STRATEGY_TRAIN), seeds, progress=progress,
                    desc=desc, lr_scale=np.asarray([lr for _, _, lr in members]))
    # one more (compiled) evaluation, timed, so that training throughput excludes evaluations
    t0 = time.perf_counter()
    jax.block_until_ready(res.trainer.evaluate(res.state.params, res.state.rest, data,
                                               streams.fold(keys, streams.STRATEGY_TRAIN), 0))
    eval_s = time.perf_counter() - t0
    train_s = max(res.timing.run_s - cfg.epochs * eval_s, 1e-9)
    h = res.history.arrays()
    model0 = res.model(0)
    return {
        "hist": {k: np.asarray(v) for k, v in h.items()},
        "params": param_count(model0.embed), "model_params": param_count(model0),
        "compile_s": res.timing.compile_s, "run_s": res.timing.run_s, "eval_s": eval_s,
        "tokens_per_s": M * cfg.epochs * cfg.steps_per_epoch * cfg.batch * cfg.window / train_s,
        "memory": res.trainer.memory(), "flops": res.timing.flops, "members": M,
    }


def _finite_or_inf(val_ME: np.ndarray) -> np.ndarray:
    """Validation losses with NaN/inf (a diverged model) as +inf: never a model's best epoch."""
    return np.where(np.isfinite(val_ME), val_ME, np.inf)


def tune(hist: dict, members) -> dict:
    """Phase 1's choice: per init the learning rate of lowest mean best-epoch validation loss over
    the tuning seeds (a diverged model counts as +inf), then the init with the lower one."""
    val = _finite_or_inf(hist["val_loss"]).min(axis=1)
    grid: dict = {}
    for (_, init, lr), v in zip(members, val):
        grid.setdefault(init, {}).setdefault(lr, []).append(float(v))
    choice = {}
    for init, by_lr in grid.items():
        means = {lr: float(np.mean(v)) for lr, v in by_lr.items()}
        best = min(means, key=lambda lr: means[lr])
        choice[init] = {"lr": best, "val_loss": means[best], "grid": means,
                        "at_edge": len(means) > 1 and best in (min(means), max(means))}
    best_init = min(choice, key=lambda i: choice[i]["val_loss"])
    return {"per_init": choice, "init": best_init}


def report_arm(hist: dict, idx: list[int], names) -> dict:
    """Per-seed results of one init arm at each model's best validation epoch."""
    val = hist["val_loss"][idx]
    e = _finite_or_inf(val).argmin(axis=1)   # each model's early-stopping epoch
    r = np.arange(len(idx))

    def at(key):
        return hist[key][idx][r, e]

    tier = at("test_tier_sum") / np.maximum(at("test_tier_n"), 1)
    tier_in = at("test_in_sum") / np.maximum(at("test_in_n"), 1)
    return {
        "best_epoch": e.tolist(), "val_loss": val[r, e].tolist(),
        "test_loss": at("test_loss").tolist(),
        "test_tier_loss": {n: tier[:, k].tolist() for k, n in enumerate(names)},
        "test_input_tier_loss": {n: tier_in[:, k].tolist() for k, n in enumerate(names)},
        "val_curve": val.tolist(), "diverged": int((~np.isfinite(val)).any(axis=1).sum()),
        # bookkeeping: the count-weighted tier losses give back the overall loss
        "tier_gap": float(np.abs(at("test_tier_sum").sum(1) / at("test_tier_n").sum(1)
                                 - at("test_loss")).max()),
    }


def run_config(cfg: Config, strategy: str, frac: float, bands, data_np, seeds, tune_seeds, *,
               progress: bool) -> dict:
    """Phase 1 (tuning seeds, full grid) then phase 2 (reported seeds, each init at its tuned
    learning rate) for one (strategy, budget)."""
    from jaxbespoke.nn import strategies

    V, D = len(bands.tier_V), cfg.width
    plan = strategies.size(strategy, int(round(frac * V * D)), V, D, bands)
    label = f"{strategy}@{frac:g}"
    grid = [(s, i, lr) for i in cfg.emb_inits for lr in cfg.lrs for s in tune_seeds]
    # a diverging learning rate is a tuning result (never chosen); a reported model must not diverge
    p1 = train_members(cfg, plan, bands, data_np, grid, halt=False, progress=progress,
                       desc=f"{label} tune")
    choice = tune(p1["hist"], grid)
    arms = [(s, i, choice["per_init"][i]["lr"]) for i in cfg.emb_inits for s in seeds]
    p2 = train_members(cfg, plan, bands, data_np, arms, halt=True, progress=progress,
                       desc=f"{label} report")
    n = len(seeds)
    out = {
        "strategy": strategy, "budget_frac": frac, "budget": plan.budget, "dims": list(plan.dims),
        "params": p2["params"], "model_params": p2["model_params"], "tuning": choice,
        "tuning_val_curves": p1["hist"]["val_loss"].tolist(),
        "arms": {i: report_arm(p2["hist"], list(range(k * n, (k + 1) * n)), bands.names)
                 for k, i in enumerate(cfg.emb_inits)},
        "cost": {k: p2[k] for k in ("compile_s", "run_s", "eval_s", "tokens_per_s", "memory",
                                    "flops", "members")},
        "cost_tuning": {k: p1[k] for k in ("compile_s", "run_s", "tokens_per_s", "members")},
    }
    out["chosen"] = out["arms"][choice["init"]]
    return out


# --------------------------------------------------------------------------- comparisons
def families(cfg: Config, budgets, strats, names) -> dict[str, list[dict]]:
    """The pre-declared comparisons: b - a of test loss per seed (a, b = (strategy, budget, arm),
    arm 'chosen' = the strategy's tuned init). Written down before the runs; a comparison whose
    configurations were not run is left out."""
    full, half = max(budgets), min(budgets)
    others = [s for s in strats if s != "standard"]
    fam: dict[str, list[dict]] = {
        "equal_budget": [dict(a=("standard", b, "chosen"), b=(s, b, "chosen"), metric="test_loss")
                         for b in budgets for s in others],
        "half_vs_full_standard": ([dict(a=("standard", full, "chosen"), b=(s, half, "chosen"),
                                        metric="test_loss") for s in strats]
                                  if half < full else []),
        "embedding_init": [dict(a=(s, b, cfg.emb_inits[0]), b=(s, b, cfg.emb_inits[1]),
                                metric="test_loss")
                           for b in budgets for s in strats] if len(cfg.emb_inits) == 2 else [],
        "input_tier": [dict(a=("standard", full, "chosen"), b=(s, full, "chosen"),
                            metric=("test_input_tier_loss", n)) for s in others for n in names],
    }
    return fam


def _values(parts: dict, side, metric):
    s, b, arm = side
    p = parts.get(f"{s}@{b:g}")
    if p is None:
        return None
    a = p["arms"][p["tuning"]["init"]] if arm == "chosen" else p["arms"].get(arm)
    if a is None:
        return None
    v = a[metric] if isinstance(metric, str) else a[metric[0]][metric[1]]
    return np.asarray(v, np.float64)


def run_families(cfg: Config, parts: dict, names) -> dict[str, list[dict]]:
    """Every comparison of every family: paired t (two-sided) and TOST (margin cfg.margin), each
    Holm-adjusted within its family, and a finding at the strength they allow."""
    budgets = sorted({p["budget_frac"] for p in parts.values()})
    strats = [s for s in STRATEGIES if any(p["strategy"] == s for p in parts.values())]
    out = {}
    for fname, comps in families(cfg, budgets, strats, names).items():
        rows = []
        for c in comps:
            a, b = _values(parts, c["a"], c["metric"]), _values(parts, c["b"], c["metric"])
            if a is None or b is None:
                continue
            t = stats.paired_test(a, b)
            eq = stats.tost(b - a, cfg.margin)
            rows.append({"a": list(c["a"]), "b": list(c["b"]),
                         "metric": c["metric"] if isinstance(c["metric"], str)
                         else "/".join(c["metric"]), "n": t["n"], "mean": t["mean"],
                         "interval": t["interval"], "dz": t["dz"], "p": t["p_value"],
                         "p_tost": eq["p_value"], "values": t["values"]})
        for key in ("p", "p_tost"):
            have = [r for r in rows if r[key] is not None]
            for r, p in zip(have, stats.holm([r[key] for r in have]) if have else []):
                r[f"{key}_holm"] = p
        for r in rows:
            r["finding"] = finding(r, cfg.margin)
        out[fname] = rows
    return out


def finding(r: dict, margin: float) -> str:
    """'lower' / 'higher' when the Holm-adjusted paired t says so; 'equivalent within +-margin'
    when the Holm-adjusted TOST does; otherwise 'inconclusive' (never 'no difference')."""
    if r.get("p_holm") is None:
        return "no test (fewer than 2 seeds)"
    if r["p_holm"] < ALPHA:
        return "lower" if r["mean"] < 0 else "higher"
    if r.get("p_tost_holm") is not None and r["p_tost_holm"] < ALPHA:
        return f"equivalent within +-{margin:g}"
    return "inconclusive"


# --------------------------------------------------------------------------- report
def side_label(side) -> str:
    s, b, arm = side
    return f"{s}@{b:g}" + ("" if arm == "chosen" else f" [{arm}]")


def summary_rows(cfg: Config, parts: dict, names) -> list[dict]:
    rows = []
    for key in sorted(parts, key=lambda k: (parts[k]["budget_frac"],
                                            STRATEGIES.index(parts[k]["strategy"]))):
        p = parts[key]
        for arm in cfg.emb_inits:
            a = p["arms"][arm]
            loss = np.asarray(a["test_loss"])
            rows.append({
                "config": key, "strategy": p["strategy"], "budget_frac": p["budget_frac"],
                "arm": arm, "chosen": arm == p["tuning"]["init"], "dims": p["dims"],
                "params": p["params"], "lr": p["tuning"]["per_init"][arm]["lr"],
                "lr_at_edge": p["tuning"]["per_init"][arm]["at_edge"],
                "test_loss": stats.summarize(loss, "level"),
                "test_ppl": stats.summarize(np.exp(loss), "level"),
                "best_epoch": a["best_epoch"], "diverged": a["diverged"],
                # how flat the validation curve is at the end: last epoch's gain, per model
                "last_epoch_gain": float(np.nanmean(np.diff(np.asarray(a["val_curve"]),
                                                            axis=1)[:, -1] * -1))
                if cfg.epochs > 1 else float("nan"),
                "tier": {n: stats.summarize(a["test_input_tier_loss"][n], "level")
                         for n in names},
                "tokens_per_s": p["cost"]["tokens_per_s"] / p["cost"]["members"],
                "memory_mb": p["cost"]["memory"].get("total", float("nan")) / 2**20
                / p["cost"]["members"],
            })
    return rows


def _ci(s: dict, d: int = 3) -> str:
    if s["interval"] is None:
        return ", ".join(f"{v:.{d}f}" for v in s["values"])
    return f"{s['center']:.{d}f} [{s['interval'][0]:.{d}f}, {s['interval'][1]:.{d}f}]"


FAMILY_TITLES = {
    "equal_budget": "Each strategy against the standard table at the same budget (test loss)",
    "half_vs_full_standard": "Half-budget strategies against the full-budget standard table",
    "embedding_init": "Embedding initialisation alone (second init minus first; body and head "
                      "identical)",
    "input_tier": "By tier of the input token, full budget, against the standard table",
}


def markdown(cfg: Config, res: dict) -> str:
    info, names = res["corpus"], res["tiers"]
    rows = res["rows"]
    L = [f"# Embedding strategies, tuned and tested ({info['name']})", "",
         f"Command: `{res['command']}`  ",
         f"Device: {res['device_banner']}; reported seeds {res['seeds']}, tuning seeds "
         f"{res['tune_seeds']}; training time {res['train_s'] / 60:.1f} min (compile and run of "
         f"both phases, summed over the configurations; this process: "
         f"{res['runtime_s'] / 60:.1f} min" + (", earlier configurations resumed from "
                                                "`parts/`" if res.get("resumed") else "")
         + ").", "",
         "## Corpus", "",
         f"{info['tokens']:,} word tokens, vocabulary {info['vocabulary']} (`<unk>` "
         f"{info['unk_rate']:.1%}), fitted Zipf exponent {info['zipf_exponent']:.3f}; contiguous "
         f"splits train/val/test = {info['splits']['train']:,}/{info['splits']['val']:,}/"
         f"{info['splits']['test']:,} tokens"
         + (f" (evaluation uses the first {cfg.eval_tokens:,} tokens of val and of test)"
            if cfg.eval_tokens and info["splits"]["val"] > cfg.eval_tokens else "")
         + f". An add-one unigram model fitted on train has test perplexity "
         f"{info['unigram_test_ppl']:.1f} (a context-free reference, not a floor).", "",
         report.md_table(["tier", "types", "train coverage", "test coverage"],
                         [[n, t["types"], f"{t['train_coverage']:.1%}",
                           f"{t['test_coverage']:.1%}"] for n, t in info["tiers"].items()]), "",
         "## Design", "",
         f"Causal pre-LN LM, {cfg.layers} layers, {cfg.heads} heads, width {cfg.width}, window "
         f"{cfg.window}, batch {cfg.batch}; {cfg.epochs} x {cfg.steps_per_epoch} AdamW steps "
         f"(weight decay 0.01, cosine per epoch, clip 1.0), evaluated after every epoch. Body "
         f"and head are initialised with the `{cfg.body_init}` scheme from the same key for "
         f"every strategy and arm of a seed; every model of a seed sees the same batches. The "
         f"embedding alone is initialised with `{'` or `'.join(cfg.emb_inits)}` (torch: N(0, 1) "
         "tables and torch Linear projections; normal02: N(0, 0.02) tables and projections).", "",
         f"**Tuning** (tuning seeds only): learning rates {list(cfg.lrs)} x each embedding init; "
         "per init the learning rate of lowest mean best-epoch validation loss, and the init with "
         "the lower one is the strategy's choice. **Report** (reported seeds): both inits at "
         "their tuned rates; each model stops at its best validation epoch and is scored on the "
         f"**test** split. Comparisons are paired by seed and Holm-corrected within each family; "
         f"'equivalent' needs a TOST with margin +-{cfg.margin:g} nats (about "
         f"{np.expm1(cfg.margin):.0%} perplexity), also Holm-corrected. 'Inconclusive' means "
         "neither a difference nor equivalence was shown.", "",
         "## Results", "",
         "Test loss (nats) and perplexity at each model's best validation epoch: mean [95% "
         "bootstrap interval] over the reported seeds. **Bold** = the init chosen in tuning. "
         "Tokens/s: training throughput per model (all models of the phase ran vmapped together; "
         "evaluation excluded); memory: XLA's buffer plan of the training program per model.", ""]
    head = ["strategy", "budget", "emb init", "dims", "emb params", "lr", "test loss",
            "test ppl", "best epoch (median)", "last-epoch val gain", "tokens/s", "MB"]
    body = []
    for r in rows:
        mark = "**" if r["chosen"] else ""
        body.append([r["strategy"], f"{r['budget_frac']:g}", f"{mark}{r['arm']}{mark}",
                     "/".join(map(str, r["dims"])), r["params"],
                     f"{r['lr']:g}" + (" (edge)" if r["lr_at_edge"] else ""),
                     _ci(r["test_loss"]), _ci(r["test_ppl"], 1),
                     f"{np.median(r['best_epoch']) + 1:g} of {cfg.epochs}"
                     + (f", {r['diverged']} diverged" if r["diverged"] else ""),
                     f"{r['last_epoch_gain']:.4f}", f"{r['tokens_per_s']:,.0f}",
                     f"{r['memory_mb']:.1f}"])
    L += [report.md_table(head, body), "",
          "'(edge)': the tuned rate is at the end of the grid, so a better one may lie beyond it. "
          "Last-epoch val gain: mean decrease of the validation loss over the final epoch (nats; "
          "the cosine schedule's last epoch runs at "
          f"{(1 + np.cos(np.pi * (cfg.epochs - 1) / cfg.epochs)) / 2:.1%} of the peak rate).",
          "", "Test loss by tier of the input token (the token whose embedding differs), chosen "
          "init:", "",
          report.md_table(["strategy", "budget"] + [f"after {n}" for n in names],
                          [[r["strategy"], f"{r['budget_frac']:g}"] +
                           [_ci(r["tier"][n]) for n in names] for r in rows if r["chosen"]]), ""]
    L += ["## Summary of the comparisons", "",
          "Each line lists the comparisons of one family by their Holm-corrected finding "
          "(b - a of test loss: 'lower' = b better).", ""]
    for fname, comps in res["families"].items():
        if not comps:
            continue
        by: dict[str, list[str]] = {}
        for c in comps:
            by.setdefault(c["finding"], []).append(
                f"{side_label(c['b'])}" + ("" if c["metric"] == "test_loss"
                                           else f" ({c['metric'].split('/')[-1]})"))
        L.append(f"- **{FAMILY_TITLES[fname]}**: " + "; ".join(
            f"{k}: {', '.join(v)}" for k, v in sorted(by.items())))
    L += ["", "## Pre-declared comparisons", ""]
    for fname, comps in res["families"].items():
        if not comps:
            continue
        L += [f"### {FAMILY_TITLES[fname]}", "", report.md_table(
            ["b - a", "metric", "mean [95% CI] (nats)", "p (Holm)", "TOST p (Holm)", "finding"],
            [[f"{side_label(c['b'])} - {side_label(c['a'])}", c["metric"],
              f"{c['mean']:+.4f}" + ("" if c["interval"] is None else
                                    f" [{c['interval'][0]:+.4f}, {c['interval'][1]:+.4f}]"),
              "–" if c.get("p_holm") is None else f"{c['p_holm']:.2g}",
              "–" if c.get("p_tost_holm") is None else f"{c['p_tost_holm']:.2g}",
              c["finding"]] for c in comps]), ""]
    L += [f"Per-tier bookkeeping: the count-weighted tier losses reproduce the overall test loss "
          f"to {res['tier_gap']:.2g} nats (largest gap).", "",
          f"![quality vs parameters]({res['name']}.png)", ""]
    return "\n".join(L)


def plot(path: Path, res: dict) -> None:
    """Test perplexity against embedding parameters (chosen init, mean and interval), with the
    Pareto front of the means."""
    plt = report._plt()
    fig, ax = plt.subplots(figsize=(7, 4.4))
    rows = [r for r in res["rows"] if r["chosen"]]
    for strat in dict.fromkeys(r["strategy"] for r in rows):
        rs = sorted((r for r in rows if r["strategy"] == strat), key=lambda r: r["params"])
        y = np.asarray([r["test_ppl"]["center"] for r in rs])
        iv = [r["test_ppl"]["interval"] or [r["test_ppl"]["center"]] * 2 for r in rs]
        err = np.abs(np.asarray(iv).T - y)
        ax.errorbar([r["params"] for r in rs], y, yerr=err, marker="o", capsize=3, label=strat)
    pts = sorted((r["params"], r["test_ppl"]["center"]) for r in rows)
    front, best = [], np.inf
    for x, y in pts:
        if y < best:
            front.append((x, y))
            best = y
    if front:
        ax.plot(*zip(*front), "k--", lw=1, label="Pareto front (means)")
    ax.set_xlabel("input-embedding parameters")
    ax.set_ylabel("test perplexity (mean, 95% interval)")
    ax.set_title(f"{res['corpus']['name']}: quality vs parameters (tuned, same seeds and batches)",
                 fontsize=10)
    ax.legend(fontsize=7, ncol=2)
    report.save(fig, path)


# --------------------------------------------------------------------------- driver
def run(cfg: Config, seeds: list[int], dev: dict, out: Path, *, cache_dir: Path | None,
        progress: bool, command: str, name: str = NAME) -> int:
    """Run (or resume) every (strategy, budget) of cfg and write name.json, .md and .png to out;
    exit status 0, or 1 if a configuration failed (the finished ones are kept in out/parts)."""
    from jaxbespoke.utils.errors import check_memory

    if len(seeds) < 2:
        raise ConfigError(f"the study needs at least 2 reported seeds for any comparison, got "
                          f"{len(seeds)}")
    t_start = time.perf_counter()
    corpus, (train, val, test), bands, info = prepare(cfg, cache_dir)
    if train.size < cfg.window + 2:
        raise ConfigError(f"training split has {train.size} tokens, too short for a window of "
                          f"{cfg.window}")
    tune_seeds = [max(seeds) + 1 + i for i in range(cfg.tune_seeds)]   # disjoint from reported
    V, W, L_, T = corpus.vocab_size, cfg.width, cfg.layers, cfg.window
    M = max(len(seeds) * len(cfg.emb_inits), cfg.tune_seeds * len(cfg.emb_inits) * len(cfg.lrs))
    check_memory(4.0 * M * (4 * (12 * L_ * W * W + 2 * V * W) + 2 * cfg.batch * T * (
        L_ * 16 * W + 2 * V) + 3 * cfg.eval_chunk * T * V + train.size + 6 * cfg.eval_tokens),
        f"{M} models of V={V}, width {W}, {L_} layers")
    data_np = {"train": train, "tier_V": bands.tier_V}
    for split, arr in (("val", val), ("test", test)):
        x, y, m = eval_windows(arr, cfg.window, cfg.eval_chunk, cfg.eval_tokens)
        data_np.update({f"{split}_x": x, f"{split}_y": y, f"{split}_m": m})
    from jaxbespoke.nn import strategies

    for strat, frac in ((s, b) for b in cfg.budgets for s in cfg.strategies):   # fail fast
        strategies.size(strat, int(round(frac * V * W)), V, W, bands)
    parts_dir = out / "parts"
    parts_dir.mkdir(parents=True, exist_ok=True)
    key = setup_key(cfg)
    jobs = [(s, b) for b in cfg.budgets for s in cfg.strategies]
    print(f"{device.banner(dev)}; {len(jobs)} configurations; reported seeds {seeds}, tuning "
          f"seeds {tune_seeds}; corpus {info['name']} ({info['tokens']:,} tokens, V={V})",
          flush=True)
    parts: dict = {}
    resumed = False
    status = 0
    for strat, frac in jobs:
        label = f"{strat}@{frac:g}"
        f = parts_dir / f"{label}.json"
        if f.exists():
            old = json.loads(f.read_text())
            if old.get("setup") == key and old.get("seeds") == seeds:
                parts[label] = old["result"]
                resumed = True
                print(f"  {label:22s} resumed from {f}", flush=True)
                continue
        try:
            p = run_config(cfg, strat, frac, bands, data_np, seeds, tune_seeds, progress=progress)
        except TrainingDiverged as e:   # a reported model diverged: keep the others
            print(f"error: {label}: {e}", file=sys.stderr)
            status = 1
            continue
        report.write_json(f, {"setup": key, "seeds": seeds, "result": p})
        parts[label] = p
        c = p["chosen"]
        print(f"  {label:22s} dims {str(p['dims']):16s} chose {p['tuning']['init']} lr "
              f"{p['tuning']['per_init'][p['tuning']['init']]['lr']:g}; test loss "
              f"{np.mean(c['test_loss']):.4f}; {p['cost']['tokens_per_s']:,.0f} tok/s "
              f"(compile {p['cost']['compile_s'] + p['cost_tuning']['compile_s']:.0f}s, run "
              f"{p['cost']['run_s'] + p['cost_tuning']['run_s']:.0f}s)", flush=True)
    if not parts:
        return status or 1
    res = finish(cfg, parts, bands.names, info, out, name=name, seeds=seeds,
                 tune_seeds=tune_seeds, banner=device.banner(dev), dev=dev, command=command,
                 runtime_s=time.perf_counter() - t_start, resumed=resumed)
    print(f"wrote {out / (name + '.json')}, .md, .png ({res['runtime_s'] / 60:.1f} min)")
    return status


def finish(cfg: Config, parts: dict, names, info: dict, out: Path, **meta) -> dict:
    """Comparisons, JSON, Markdown and plot from finished configurations."""
    rows = summary_rows(cfg, parts, names)
    res = {"name": meta["name"], "config": asdict(cfg), "corpus": info, "tiers": list(names),
           "device": meta["dev"], "device_banner": meta["banner"], "seeds": meta["seeds"],
           "tune_seeds": meta["tune_seeds"], "command": meta["command"],
           "runtime_s": meta["runtime_s"], "resumed": meta["resumed"], "out": str(out),
           "rows": rows, "families": run_families(cfg, parts, names),
           "train_s": sum(p[c]["compile_s"] + p[c]["run_s"] for p in parts.values()
                          for c in ("cost", "cost_tuning")),
           "tier_gap": max(a["tier_gap"] for p in parts.values() for a in p["arms"].values()),
           "parts": parts}
    report.write_json(out / f"{meta['name']}.json", res)
    plot(out / f"{meta['name']}.png", res)
    report.write_atomic(out / f"{meta['name']}.md", markdown(cfg, res))
    return res

