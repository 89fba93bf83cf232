"""Protocols of the original experiments: a frozen config plus the Task the engine trains.

`run_pooled` is the original's 50-epoch comparison: i.i.d. Zipf corpus, a contiguous
train/val split, frequency tiers from the whole corpus (validation included, as in the original),
and the pooled next-token model with a standard or a bespoke embedding.

Both models of a seed share its corpus, tiers, training batches and validation batches (common
random numbers), so the paired difference isolates the embedding. The original trained them on
different draws; `streams="unpaired"` reproduces that design, to judge its single reported draws.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from jaxbespoke.data import corpus, tiers
from jaxbespoke.utils import parallel
from jaxbespoke.nn.embeddings import BespokeEmbedding, BespokeSpec, StandardEmbedding, param_count
from jaxbespoke.utils.errors import ConfigError, TrainingDiverged, check_memory, check_positive
from jaxbespoke.nn.models import PooledNextToken, cross_entropy
from jaxbespoke.training import streams as rng_streams
from jaxbespoke.training.fit import fit_seeds
from jaxbespoke.training.train import OptimConfig, Task, TrainConfig, eval_schedule


@dataclass(frozen=True)
class PooledConfig:
    """V vocab, D embed dim, T window, B batch; defaults are the original 50-epoch run (D=64:
    the reported 2.48x parameter ratio only fits 64, although the docs say 128)."""

    vocab_size: int = 200
    embed_dim: int = 64
    window: int = 16
    batch: int = 8
    corpus_size: int = 10_000
    zipf: float = 1.4
    train_frac: float = 0.8
    epochs: int = 50
    steps_per_epoch: int = 50
    lr: float = 1e-3
    eval_every: int = 10
    val_batches: int = 10
    n_high: int = 20
    n_low: int = 50
    layout: str = "replica"
    skip_absent_tiers: bool = True   # torch gives an absent tier no Adam step at all
    init: str = "torch"

    def __post_init__(self):
        for name in ("vocab_size", "embed_dim", "window", "batch", "corpus_size", "epochs",
                     "steps_per_epoch", "eval_every", "val_batches"):
            check_positive(name.replace("_", " "), getattr(self, name))
        if self.embed_dim // 4 < 1:
            raise ConfigError(f"embed dim {self.embed_dim} leaves the low tier D//4 = 0 dims")
        if self.n_high < 1 or self.n_low < 1:
            raise ConfigError(f"tier sizes must be >= 1, got high={self.n_high}, low={self.n_low}")
        if self.n_high + self.n_low >= self.vocab_size:
            raise ConfigError(f"tier sizes high={self.n_high} + low={self.n_low} leave no mid "
                              f"tier in a vocabulary of {self.vocab_size}")
        if self.layout not in ("replica", "compact"):
            raise ConfigError(f"unknown layout {self.layout!r}; expected 'replica' or 'compact'")
        n_train = int(self.train_frac * self.corpus_size)
        corpus.check_windows(n_train, self.window, "train split")
        corpus.check_windows(self.corpus_size - n_train, self.window, "validation split")
        if self.epochs * self.steps_per_epoch > 2**31 - 1:  # before eval_epochs lists them
            raise ConfigError(f"{self.epochs} epochs x {self.steps_per_epoch} steps per epoch "
                              "exceeds the int32 step counter (2**31 - 1)")
        check_memory(memory_estimate(self, 1), f"one seed of V={self.vocab_size}, "
                     f"D={self.embed_dim}, N={self.corpus_size}")

    @property
    def eval_epochs(self) -> tuple[int, ...]:
        return eval_schedule(self.epochs, self.eval_every)

    @property
    def tier_rows(self) -> tuple[int, int, int]:
        return (self.n_high, self.vocab_size - self.n_high - self.n_low, self.n_low)


def pooled_task(cfg: PooledConfig) -> Task:
    T, B = cfg.window, cfg.batch

    def sample(key, data, step):
        starts = corpus.sample_starts(key, data["train"].shape[-1], T, B)
        return corpus.next_token_batch(data["train"], starts, T)

    def loss(model, batch):
        x_BT, y_B = batch
        return cross_entropy(model(x_BT), y_B)

    def evaluate(model, key, data):
        val = data["val"]
        # The original's estimator: mean of `val_batches` random batch means (80 targets).
        starts = corpus.sample_starts(key, val.shape[-1], T, B * cfg.val_batches)
        x, y = corpus.next_token_batch(val, starts, T)
        x_all, y_all = corpus.all_next_token_windows(val, T)
        # The generating distribution scored on the same targets: a per-seed floor that shows how
        # lucky or unlucky the validation targets were.
        logp = data["logp_V"]
        return {"val_original": cross_entropy(model(x), y),
                "val_full": cross_entropy(model(x_all), y_all),
                "oracle_original": -logp[y].mean(), "oracle_full": -logp[y_all].mean()}

    # a loss 10x a uniform predictor's ln V is a blow-up, reported like NaN (train.Task)
    return Task(sample=sample, loss=loss, evaluate=evaluate,
                active_groups=lambda model, batch: model.active_groups(batch[0]),
                loss_limit=divergence_threshold(cfg.vocab_size),
                limit_metrics=("val_original", "val_full"))


def divergence_threshold(vocab_size: int) -> float:
    """10 x ln V nats: ten times the loss of a uniform predictor."""
    return 10.0 * float(np.log(vocab_size))


def memory_estimate(cfg: PooledConfig, n_seeds: int) -> float:
    """Rough peak bytes of run_pooled: corpora, both models with Adam moments, the full-validation
    logits (every validation window at once) and the per-epoch history, over all seeds."""
    V, D, N, T = cfg.vocab_size, cfg.embed_dim, cfg.corpus_size, cfg.window
    n_val = N - int(cfg.train_frac * N)
    params = V * (2 * D + D + D // 4) + 3 * D * D + V * D + D * V + V   # bespoke + standard
    per_seed = 4.0 * (3 * N + 4 * params + 3 * n_val * V + n_val * T + 4 * V * D)
    history = 64.0 * (cfg.epochs + cfg.epochs // cfg.eval_every + 1) * (1 + 4 * n_seeds)
    return n_seeds * per_seed * 2 + history


def make_model(cfg: PooledConfig, kind: str, key, tier_V=None, rows_V=None, *,
               train_rows_only: bool = False) -> PooledNextToken:
    """The pooled model of `kind`. train_rows_only: a replica-layout bespoke model is built as
    its compact copy (BespokeEmbedding.compact_copy: the same initial weights and, trained with
    Adam, the same numbers; the optimiser skips the rows no token of a tier reads)."""
    k_emb, k_head = jax.random.split(key)
    if kind == "standard":
        emb = StandardEmbedding(cfg.vocab_size, cfg.embed_dim, rngs=nnx.Rngs(k_emb), init=cfg.init)
    elif kind == "bespoke":
        emb = BespokeEmbedding(cfg.vocab_size, cfg.embed_dim, tier_V,
                               BespokeSpec.focused(cfg.embed_dim), layout=cfg.layout,
                               rows=cfg.tier_rows, rows_V=rows_V, rngs=nnx.Rngs(k_emb),
                               init=cfg.init)
        if train_rows_only:
            emb = emb.compact_copy(rows_V)
    else:
        raise ConfigError(f"unknown model kind {kind!r}")
    return PooledNextToken(emb, cfg.vocab_size, cfg.embed_dim, rngs=nnx.Rngs(k_head), init=cfg.init)


seed_keys = rng_streams.seed_keys


def build_data(cfg: PooledConfig, seeds: list[int]):
    """Per seed: a corpus, its tiers (host-side numpy), and the split. Leading axis = seed."""
    keys = rng_streams.fold(seed_keys(seeds), rng_streams.DATA)
    toks_SN = np.asarray(jax.jit(jax.vmap(
        lambda k: corpus.zipf_corpus(k, cfg.vocab_size, cfg.zipf, cfg.corpus_size)))(keys))
    tier_list = [tiers.top_bottom(t, cfg.vocab_size, cfg.n_high, cfg.n_low) for t in toks_SN]
    train, val = corpus.split(toks_SN, cfg.train_frac)
    logp = np.log(corpus.zipf_probs(cfg.vocab_size, cfg.zipf)).astype(np.float32)
    return {"train": jnp.asarray(train), "val": jnp.asarray(val),
            "logp_V": jnp.asarray(np.broadcast_to(logp, (len(seeds), cfg.vocab_size)))}, tier_list


KINDS = ("standard", "bespoke")


def stream_keys(train_keys, kind: str, streams: str):
    """Batch/validation stream of one model kind. 'paired': every kind reads the same stream
    (common random numbers: our design for measuring the effect). 'unpaired': the bespoke model
    reads its own stream, as in the original, which trained the two models one after the other
    from one global RNG (the standard model keeps the paired stream, so its run is shared)."""
    if streams not in ("paired", "unpaired"):
        raise ConfigError(f"unknown streams {streams!r}; expected 'paired' or 'unpaired'")
    if streams == "paired" or kind == "standard":
        return train_keys
    return rng_streams.fold(train_keys, rng_streams.unpaired_stream(KINDS.index(kind)))


def kind_keys(keys, train_keys, kind: str, streams: str):
    """(init keys, batch-stream keys) of one model kind: its own initialisation stream, and the
    stream `stream_keys` gives it."""
    if kind not in KINDS:
        raise ConfigError(f"unknown model kind {kind!r}; expected one of {KINDS}")
    init_keys = rng_streams.fold(keys, rng_streams.init_stream(KINDS.index(kind)))
    return init_keys, stream_keys(train_keys, kind, streams)


def run_pooled(cfg: PooledConfig, seeds: list[int], *, progress: bool = True,
               kinds=KINDS, streams: str = "paired") -> dict:
    """Train each model kind on every seed; returns per-seed arrays and timings.

    Model kind k of seed s starts from its init stream (training.streams.init_stream), whatever
    subset `kinds` is, so a bespoke-only rerun has the same initial weights as the paired one."""
    if not seeds:
        raise ConfigError("need at least one seed")
    check_memory(memory_estimate(cfg, len(seeds)),
                 f"{len(seeds)} seeds of V={cfg.vocab_size}, D={cfg.embed_dim}, "
                 f"N={cfg.corpus_size}, {cfg.epochs} epochs")
    data, tier_list = build_data(cfg, seeds)
    tier_SV = jnp.asarray(np.stack([t.tier_V for t in tier_list]))
    rows_SV = jnp.asarray(np.stack([t.rows_V() for t in tier_list]))
    keys = seed_keys(seeds)
    train_keys = rng_streams.fold(keys, rng_streams.TRAIN)
    task = pooled_task(cfg)
    tcfg = TrainConfig(epochs=cfg.epochs, steps_per_epoch=cfg.steps_per_epoch,
                       optim=OptimConfig("adam", lr=cfg.lr), eval_epochs=cfg.eval_epochs,
                       skip_absent_groups=cfg.skip_absent_tiers)
    out = {"tiers": tier_list, "models": {}, "timing": {},
           "seed_split": parallel.split(len(seeds)).describe(seeds)}
    for kind in kinds:
        init_keys, k_keys = kind_keys(keys, train_keys, kind, streams)
        try:
            res = fit_seeds(lambda k, tv, rv: make_model(cfg, kind, k, tv, rv,
                                                         train_rows_only=True),
                            (init_keys, tier_SV, rows_SV), task, tcfg, data, k_keys, seeds,
                            progress=progress,
                            desc=kind if streams == "paired" else f"{kind} ({streams})")
        except TrainingDiverged as e:
            e.completed = out  # the models that finished before this one, kept for the report
            raise
        hist, t = res.history, res.timing
        # the count of the model as configured (a replica bespoke model trains as its compact copy)
        shape = nnx.eval_shape(lambda: make_model(cfg, kind, init_keys[0], tier_SV[0], rows_SV[0]))
        out["models"][kind] = {"params": param_count(shape), "history": hist.arrays(),
                               "eval_epochs": list(hist.eval_epochs)}
        out["timing"][kind] = {"compile_s": t.compile_s, "run_s": t.run_s, "total_s": t.total_s,
                               "flops": t.flops, "steps": t.steps,
                               "evals": len(cfg.eval_epochs)}
    return out


def config_dict(cfg: PooledConfig) -> dict:
    d = asdict(cfg)
    d["eval_epochs"] = list(cfg.eval_epochs)
    return d
