"""The original training protocols in PyTorch, and the unseeded 50-epoch run.

`train` is the reference loop: `zero_grad` (grads to None) -> loss -> backward -> optional
clip_grad_norm_ -> step, with CosineAnnealingLR stepped once per epoch. Batches come from a
callable `batch(epoch, step)`, so a stream recorded once can drive torch and JAX alike.
`run_pooled_unseeded` is the original experiment with torch's own random streams
(torch.multinomial corpus, default init, torch.randint windows) for the statistical comparison.
"""

from __future__ import annotations

from collections import Counter
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from jaxbespoke.data.corpus import zipf_probs
from jaxbespoke.protocols.protocol import PooledConfig
from jaxbespoke.training.train import OptimConfig

from .embeddings import BespokeEmbedding, StandardEmbedding
from .models import PooledNextToken


def make_optimizer(params, cfg: OptimConfig, epochs: int):
    """torch.optim.Adam / AdamW (decoupled decay) and, for 'cosine_epoch', CosineAnnealingLR."""
    kw = dict(lr=cfg.lr, betas=(cfg.b1, cfg.b2), eps=cfg.eps)
    if cfg.name == "adam":
        opt = torch.optim.Adam(params, weight_decay=cfg.weight_decay, **kw)
    else:
        opt = torch.optim.AdamW(params, weight_decay=cfg.weight_decay, **kw)
    sched = None
    if cfg.schedule == "cosine_epoch":
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=cfg.cosine_t_max or epochs)
    return opt, sched


def pooled_loss(model, batch):
    x_BT, y_B = batch
    return F.cross_entropy(model(x_BT), y_B)


def train(model, cfg: OptimConfig, *, epochs: int, steps_per_epoch: int,
          batch: Callable[[int, int], tuple], loss: Callable = pooled_loss,
          evaluate: Callable | None = None, eval_epochs=(), on_step: Callable | None = None):
    """Returns {'step_loss': (epochs, steps) array, 'eval_epochs': [...], 'evals': {metric: [...]},
    'grad_norm': (epochs, steps) pre-clip norms (nan without clipping)}."""
    opt, sched = make_optimizer(model.parameters(), cfg, epochs)
    step_loss = np.zeros((epochs, steps_per_epoch))
    grad_norm = np.full((epochs, steps_per_epoch), np.nan)
    out = {"eval_epochs": [], "evals": {}}
    for epoch in range(epochs):
        model.train()
        for k in range(steps_per_epoch):
            opt.zero_grad(set_to_none=True)
            value = loss(model, batch(epoch, k))
            value.backward()
            if cfg.clip_norm is not None:
                grad_norm[epoch, k] = float(torch.nn.utils.clip_grad_norm_(model.parameters(),
                                                                           cfg.clip_norm))
            opt.step()
            step_loss[epoch, k] = value.item()
            if on_step is not None:
                on_step(epoch, k, model)
        if sched is not None:
            sched.step()
        if epoch in eval_epochs and evaluate is not None:
            model.eval()
            with torch.no_grad():
                metrics = evaluate(model, epoch)
            out["eval_epochs"].append(epoch)
            for name, v in metrics.items():
                out["evals"].setdefault(name, []).append(float(v))
    out.update(step_loss=step_loss, grad_norm=grad_norm)
    return out


# ------------------------------------------------------------------ the unseeded 50-epoch run
def zipf_corpus(vocab_size: int, s: float, n_tokens: int) -> torch.Tensor:
    """float64 probabilities cast to float32, then torch.multinomial with replacement."""
    p = torch.tensor(zipf_probs(vocab_size, s), dtype=torch.float64).float()
    return torch.multinomial(p, n_tokens, replacement=True)


def top_bottom_tiers(tokens: torch.Tensor, vocab_size: int, n_high: int, n_low: int) -> np.ndarray:
    """Counter over the whole corpus, stable sort by count (ties: first appearance); high = the
    first n_high, low = the last n_low observed, mid = every other id (unseen ones included)."""
    observed = [t for t, _ in sorted(Counter(tokens.tolist()).items(), key=lambda kv: kv[1],
                                     reverse=True)]
    tier_V = np.ones(vocab_size, np.int64)
    tier_V[observed[:n_high]] = 0
    tier_V[observed[len(observed) - n_low:]] = 2
    return tier_V


def windows(data: torch.Tensor, starts: torch.Tensor, window: int):
    idx = starts[:, None] + torch.arange(window)[None, :]
    return data[idx], data[starts + window]


def run_pooled_unseeded(cfg: PooledConfig, seed: int, *, kinds=("standard", "bespoke")) -> dict:
    """One unseeded run of the original, seeded here only so that it can be repeated.
    Returns per kind {'val_original': [...], 'val_full': [...]} at cfg.eval_epochs."""
    torch.manual_seed(seed)
    V, D, T, B = cfg.vocab_size, cfg.embed_dim, cfg.window, cfg.batch
    toks = zipf_corpus(V, cfg.zipf, cfg.corpus_size)
    tier_V = top_bottom_tiers(toks, V, cfg.n_high, cfg.n_low)
    n_train = int(cfg.train_frac * cfg.corpus_size)
    train_N, val_N = toks[:n_train], toks[n_train:]
    # the original's construction order: both embeddings, then both heads
    embeds = {"standard": StandardEmbedding(V, D),
              "bespoke": BespokeEmbedding(V, D, tier_V, (2 * D, D, D // 4))}
    models = {k: PooledNextToken(embeds[k], V, D) for k in ("standard", "bespoke")}
    x_all, y_all = windows(val_N, torch.arange(len(val_N) - T), T)

    def batch(epoch, k):
        return windows(train_N, torch.randint(0, len(train_N) - T - 1, (B,)), T)

    def evaluate(model, epoch):
        # the original's estimator: mean of val_batches batch means (equal batch sizes)
        losses = [pooled_loss(model, windows(val_N, torch.randint(0, len(val_N) - T - 1, (B,)), T))
                  for _ in range(cfg.val_batches)]
        return {"val_original": torch.stack(losses).mean(),
                "val_full": pooled_loss(model, (x_all, y_all))}

    out = {"tier_sizes": [int((tier_V == t).sum()) for t in range(3)]}
    for kind in kinds:   # trained one after the other, as in the original
        res = train(models[kind], OptimConfig("adam", lr=cfg.lr), epochs=cfg.epochs,
                    steps_per_epoch=cfg.steps_per_epoch, batch=batch, evaluate=evaluate,
                    eval_epochs=cfg.eval_epochs)
        out[kind] = res["evals"]
    return out
