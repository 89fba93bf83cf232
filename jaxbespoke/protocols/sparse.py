"""The sparse-attention experiment: train a GPT, distill one head into a key selector and a head
approximator (`jaxbespoke.nn.sparse`), evaluate the hybrid next to baselines, over vmapped seeds.

Train a GPT, log one head's q/k/v/probs on fresh batches, train the selector on the teacher top-1
and the approximator on the head's output (the public distillation losses of
`jaxbespoke.nn.sparse`), evaluate the hybrid on fresh batches next to baselines that use the same
batches. Every training runs on the one engine, vmapped over seeds; collection and evaluation are
jitted and vmapped over seeds too.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import jax
import jax.numpy as jnp
from flax import nnx

from jaxbespoke.nn.gpt import GPT, GPTConfig, lm_loss
from jaxbespoke.nn.sparse import (
    MODES,
    HeadApproximator,
    KeySelector,
    approximator_distillation_loss,
    approximator_inputs,
    check_mode,
    check_top_k,
    keys_head,
    mean_head,
    oracle_exact_head,
    positional_keys,
    selector_distillation_loss,
    selector_logits,
    top1_nll,
    topk_keys,
    zero_head,
)
from jaxbespoke.training import streams
from jaxbespoke.training.fit import fit_seeds
from jaxbespoke.training.streams import Sparse as Stage
from jaxbespoke.training.train import OptimConfig, Task, TrainConfig
from jaxbespoke.utils.bench import compile_with_flops
from jaxbespoke.utils.errors import ConfigError, check_positive

TASKS = ("random", "copy")
VARIANTS = ("hybrid", "zero_head", "mean_head", "oracle_exact_topk", "oracle_approximator",
            "positional_selector")


@dataclass(frozen=True)
class SparseConfig:
    """Defaults are the original run. task 'random': i.i.d. uniform tokens from one stream of
    corpus_size tokens (no split, as in the original); 'copy': fresh sequences whose first
    `period` tokens are random and then repeat, so attention carries the only usable signal."""

    task: str = "random"
    vocab_size: int = 64
    block_size: int = 64
    corpus_size: int = 50_000
    period: int = 32
    batch: int = 32
    train_steps: int = 300
    lr: float = 3e-3
    weight_decay: float = 0.01
    collect_batches: int = 32
    selector_iters: int = 400
    approx_iters: int = 600
    eval_batches: int = 10
    log_every: int = 100
    top_k: int = 3
    selector_hidden: int = 64
    approx_hidden: int = 64
    layer: int = 0
    head: int = 0
    n_layer: int = 2
    n_head: int = 2
    n_embd: int = 128

    def __post_init__(self):
        if self.task not in TASKS:
            raise ConfigError(f"unknown task {self.task!r}; expected one of {', '.join(TASKS)}")
        for name in ("batch", "train_steps", "collect_batches", "selector_iters", "approx_iters",
                     "eval_batches", "log_every", "period"):
            check_positive(name.replace("_", " "), getattr(self, name))
        for name in ("train_steps", "selector_iters", "approx_iters"):
            if getattr(self, name) % min(self.log_every, getattr(self, name)):
                raise ConfigError(f"{name.replace('_', ' ')} {getattr(self, name)} is not a "
                                  f"multiple of log every {self.log_every}")
        check_top_k(self.top_k, self.block_size)
        if self.task == "random" and self.corpus_size < self.block_size + 2:
            raise ConfigError(f"corpus size {self.corpus_size} is too short for windows of "
                              f"{self.block_size}")
        self.gpt_config()  # validates the model dimensions
        if not 0 <= self.layer < self.n_layer:
            raise ConfigError(f"layer {self.layer} out of range: the model has {self.n_layer} "
                              "layers")
        if not 0 <= self.head < self.n_head:
            raise ConfigError(f"head {self.head} out of range: each layer has {self.n_head} heads")

    def memory_bytes(self, n_seeds: int) -> float:
        """Rough peak float32 bytes of run_pipeline over vmapped seeds: GPT weights with AdamW
        moments and gradients, a batch's activations (attention T x T per head), the corpus and
        the collected teacher data."""
        D, T, V, L, H, B = (self.n_embd, self.block_size, self.vocab_size, self.n_layer,
                            self.n_head, self.batch)
        weights = 12 * L * D * D + 2 * V * D + T * D
        acts = B * L * (16 * T * D + 3 * H * T * T) + 2 * B * T * V
        collected = self.collect_batches * B * T * (3 * D // H + T)
        return 4.0 * n_seeds * (4 * weights + 2 * acts + self.corpus_size + collected)

    def gpt_config(self) -> GPTConfig:
        return GPTConfig(vocab_size=self.vocab_size, block_size=self.block_size,
                         n_layer=self.n_layer, n_head=self.n_head, n_embd=self.n_embd)

    def train_config(self, steps: int) -> TrainConfig:
        per = min(self.log_every, steps)
        return TrainConfig(epochs=steps // per, steps_per_epoch=per,
                           optim=OptimConfig("adamw", lr=self.lr, weight_decay=self.weight_decay))


def make_data(cfg: SparseConfig, key) -> dict:
    if cfg.task == "random":
        return {"stream": jax.random.randint(key, (cfg.corpus_size,), 0, cfg.vocab_size)}
    return {"stream": jnp.zeros((1,), jnp.int32)}  # sequences are drawn fresh per batch


def sample_batch(cfg: SparseConfig, key, data, n: int):
    """n windows: x (n, T) and targets shifted by one."""
    T = cfg.block_size
    if cfg.task == "random":
        s = jax.random.randint(key, (n, 1), 0, cfg.corpus_size - T - 1)
        idx = s + jnp.arange(T + 1)
        seq = data["stream"][idx]
    else:
        a = jax.random.randint(key, (n, cfg.period), 0, cfg.vocab_size)
        seq = jnp.tile(a, (1, -(-(T + 1) // cfg.period)))[:, :T + 1]
    return seq[:, :T], seq[:, 1:]


def _empty_eval(model, key, data):
    return {}


_seed_keys = streams.stage_keys


def _fit(make_model, init_keys, task, tcfg, data, train_keys, seeds, progress, desc):
    """One stage's training: (graphdef, model state (S, ...), train-loss curve (S, epochs),
    timing dict as the pipeline reports it)."""
    res = fit_seeds(make_model, init_keys, task, tcfg, data, train_keys, seeds,
                    progress=progress, desc=desc)
    t = res.timing
    timing = {"compile_s": t.compile_s, "run_s": t.run_s, "total_s": t.total_s,
              "flops": t.flops, "steps": t.steps}
    return res.graphdef, res.model_state(), res.history.arrays()["train_loss"], timing


def collect(cfg: SparseConfig, gpt: GPT, key, data) -> dict:
    """Teacher signals of (layer, head) on collect_batches fresh batches: q, v (N, T, d), probs,
    top-1, the head output probs @ v (the approximator's target), its mean (mean_head)."""
    x, _ = sample_batch(cfg, key, data, cfg.collect_batches * cfg.batch)
    _, auxes = gpt(x, return_aux=True)
    a = auxes[cfg.layer]
    q, k, v = (a[n][:, cfg.head] for n in ("q", "k", "v"))
    probs = a["probs"][:, cfg.head]
    y = probs @ v
    return {"q": q, "v": v, "probs": probs, "top1": jnp.argmax(probs, -1), "y": y,
            "mean": y.mean((0, 1))}


def selector_task(mode: str) -> Task:
    check_mode(mode)
    return Task(sample=lambda key, d, step: (d["q"], d["top1"]),
                loss=lambda sel, b: selector_distillation_loss(sel, b[0], b[1], mode),
                evaluate=_empty_eval)


def _tolist(tree):
    return jax.tree.map(lambda a: [float(x) for x in a], tree)


def train_batch_loss(cfg: SparseConfig, gpt: GPT, key, data):
    """The trained GPT's loss on one fresh training batch: the original's logged 'step 300 loss'
    is one minibatch's loss (measured there just before the last update)."""
    x, y = sample_batch(cfg, key, data, cfg.batch)
    return lm_loss(gpt(x), y)


def selector_train_metrics(sel: KeySelector, q_NTd, top1_NT, mode: str) -> dict:
    """Full-batch training-set loss and top-1 accuracy after training (the original logs both,
    on the training set, at its last iteration)."""
    logits = selector_logits(sel, q_NTd, mode)
    return {"loss": top1_nll(logits, top1_NT), "acc": jnp.mean(jnp.argmax(logits, -1) == top1_NT)}


def approximator_train_metrics(app: HeadApproximator, x_NTkd, y_NTd, repeated: bool) -> dict:
    """Full-batch training-set MSE and ||pred - y||_F / ||y||_F after training (logged so in the
    original); repeated: x is v_NTd standing for [V_t] * k (faithful mode)."""
    err = (app.repeated(x_NTkd) if repeated else app(x_NTkd)) - y_NTd
    return {"mse": jnp.mean(err ** 2),
            "rel_err": jnp.linalg.norm(err) / jnp.linalg.norm(y_NTd)}


def approx_task(mode: str) -> Task:
    """Full-batch distillation; in 'faithful' the data's x is v itself, the input [V_t] * k
    without its k copies (`HeadApproximator.repeated`: k times fewer first-layer FLOPs)."""
    check_mode(mode)
    rep = mode == "faithful"
    return Task(sample=lambda key, d, step: (d["x"], d["y"]),
                loss=lambda app, b: approximator_distillation_loss(app, b[0], b[1], repeated=rep),
                evaluate=_empty_eval)


def evaluate(cfg: SparseConfig, mode: str, gpt: GPT, sel: KeySelector, app: HeadApproximator,
             mean_d, pos_idx_Tk, pos_valid_Tk, key, data) -> dict:
    """Every variant on the same eval batches: {variant: {metric: scalar}} (batch means)."""
    L, h, K = cfg.layer, cfg.head, cfg.top_k
    keys = jax.random.split(key, cfg.eval_batches)

    def one(k_):
        x, y = sample_batch(cfg, k_, data, cfg.batch)
        full, auxes = gpt(x, return_aux=True)
        a = auxes[L]
        q, kh, vh = a["q"][:, h], a["k"][:, h], a["v"][:, h]
        yh = a["probs"][:, h] @ vh
        t_idx, t_valid = topk_keys(a["probs"][:, h], K, mode)
        s_idx, s_valid = topk_keys(sel(q), K, mode)
        B = x.shape[0]
        p_idx = jnp.broadcast_to(pos_idx_Tk, (B,) + pos_idx_Tk.shape)
        p_valid = jnp.broadcast_to(pos_valid_Tk, p_idx.shape)
        fns = {"hybrid": keys_head(s_idx, s_valid, app), "zero_head": zero_head,
               "mean_head": mean_head(mean_d), "oracle_exact_topk": oracle_exact_head(K),
               "oracle_approximator": keys_head(t_idx, t_valid, app),
               "positional_selector": keys_head(p_idx, p_valid, app)}
        logp_full = jax.nn.log_softmax(full, -1)
        out = {"full": {"ce": lm_loss(full, y)}}
        top1 = t_idx[..., 0]
        T = x.shape[1]
        future = jnp.arange(T)[:, None]
        for name, fn in fns.items():
            logits = gpt(x, layer=L, head_fns={h: fn})
            logp = jax.nn.log_softmax(logits, -1)
            m = {"logits_rel_err": jnp.linalg.norm(full - logits) / (jnp.linalg.norm(full) + 1e-9),
                 "kl": jnp.mean(jnp.sum(jnp.exp(logp_full) * (logp_full - logp), -1)),
                 "ce": lm_loss(logits, y),
                 "head_rel_err": jnp.linalg.norm(fn(q, kh, vh, yh) - yh) / jnp.linalg.norm(yh)}
            if name in ("hybrid", "positional_selector", "oracle_approximator"):
                i, ok = {"hybrid": (s_idx, s_valid), "positional_selector": (p_idx, p_valid),
                         "oracle_approximator": (t_idx, t_valid)}[name]
                m["future_key_fraction"] = jnp.mean((i > future) & ok)
                if name != "oracle_approximator":
                    m["selector_top1_acc"] = jnp.mean(i[..., 0] == top1)
                    # the teacher's top-1 among the k chosen keys; chosen keys that are among
                    # the teacher's own top-k (in this mode's selection), per slot
                    hit = (i[..., :, None] == t_idx[..., None, :]) & ok[..., :, None]
                    m["selector_topk_acc"] = jnp.mean(jnp.any((i == top1[..., None]) & ok, -1))
                    m["topk_overlap"] = jnp.mean(jnp.any(hit, -1))
            out[name] = m
        return out

    # per eval batch (eval_batches,): the original's selector accuracy is one batch's value
    return jax.lax.map(one, keys)


def run_pipeline(cfg: SparseConfig, seeds: list[int], modes=MODES, *,
                 progress: bool = True, on_mode_done=None) -> dict:
    """All stages for every seed (vmapped). Returns per-seed metrics, train curves and timings.
    on_mode_done(partial) is called after each mode with the result so far (same layout), so a
    long run can save what it has."""
    if not seeds:
        raise ConfigError("need at least one seed")
    for m in modes:
        check_mode(m)
    gcfg = cfg.gpt_config()
    d, T, K = gcfg.head_size, cfg.block_size, cfg.top_k
    timing, curves, results, per_batch = {}, {}, {}, {}
    t_start = time.perf_counter()

    data = jax.jit(jax.vmap(lambda k: make_data(cfg, k)))(_seed_keys(seeds, Stage.DATA))
    base_task = Task(sample=lambda key, dd, step: sample_batch(cfg, key, dd, cfg.batch),
                     loss=lambda m, b: lm_loss(m(b[0]), b[1]), evaluate=_empty_eval)
    g_gd, g_state, curves["baseline"], timing["baseline"] = _fit(
        lambda k: GPT(gcfg, rngs=nnx.Rngs(k)), _seed_keys(seeds, Stage.GPT_INIT), base_task,
        cfg.train_config(cfg.train_steps), data, _seed_keys(seeds, Stage.GPT_TRAIN), seeds,
        progress, f"{cfg.task}: GPT")

    gpt_train_batch_loss = [float(x) for x in jax.jit(jax.vmap(
        lambda gs, k, dd: train_batch_loss(cfg, nnx.merge(g_gd, gs), k, dd)))(
            g_state, _seed_keys(seeds, Stage.TRAIN_BATCH), data)]
    t0 = time.perf_counter()
    col_args = (g_state, _seed_keys(seeds, Stage.COLLECT), data)
    col_fn, col_flops = compile_with_flops(
        jax.vmap(lambda s, k, dd: collect(cfg, nnx.merge(g_gd, s), k, dd)), *col_args)
    col = col_fn(*col_args)
    jax.block_until_ready(col)
    timing["collect"] = {"total_s": time.perf_counter() - t0, "flops": col_flops}

    for mode in modes:
        s_gd, s_state, curves[f"selector_{mode}"], timing[f"selector_{mode}"] = _fit(
            lambda k: KeySelector(d, T, cfg.selector_hidden, rngs=nnx.Rngs(k)),
            _seed_keys(seeds, Stage.SELECTOR_INIT), selector_task(mode),
            cfg.train_config(cfg.selector_iters), {"q": col["q"], "top1": col["top1"]},
            _seed_keys(seeds, Stage.SELECTOR_TRAIN), seeds, progress,
            f"{cfg.task}/{mode}: selector")
        rep = mode == "faithful"
        xs = col["v"] if rep else jax.jit(jax.vmap(
            lambda v, p: approximator_inputs(v, p, K, mode)))(col["v"], col["probs"])
        a_gd, a_state, curves[f"approximator_{mode}"], timing[f"approximator_{mode}"] = _fit(
            lambda k: HeadApproximator(d, K, cfg.approx_hidden, rngs=nnx.Rngs(k)),
            _seed_keys(seeds, Stage.APPROX_INIT), approx_task(mode),
            cfg.train_config(cfg.approx_iters), {"x": xs, "y": col["y"]},
            _seed_keys(seeds, Stage.APPROX_TRAIN), seeds, progress,
            f"{cfg.task}/{mode}: approximator")
        sel_train = _tolist(jax.jit(jax.vmap(
            lambda ss, q, t1: selector_train_metrics(nnx.merge(s_gd, ss), q, t1, mode)))(
                s_state, col["q"], col["top1"]))
        app_train = _tolist(jax.jit(jax.vmap(
            lambda as_, x, y: approximator_train_metrics(nnx.merge(a_gd, as_), x, y, rep)))(
                a_state, xs, col["y"]))
        del xs
        pos = jax.vmap(lambda t1: positional_keys(t1.reshape(-1, T), K, mode))(col["top1"])
        t0 = time.perf_counter()

        def ev(gs, ss, as_, mean_d, pi, pv, k, dd, mode=mode):
            return evaluate(cfg, mode, nnx.merge(g_gd, gs), nnx.merge(s_gd, ss),
                            nnx.merge(a_gd, as_), mean_d, pi, pv, k, dd)

        ev_args = (g_state, s_state, a_state, col["mean"], pos[0], pos[1],
                   _seed_keys(seeds, Stage.EVAL), data)
        ev_fn, ev_flops = compile_with_flops(jax.vmap(ev), *ev_args)
        out = ev_fn(*ev_args)
        results[mode] = jax.tree.map(lambda a: [float(x) for x in a.mean(1)], out)
        per_batch[mode] = jax.tree.map(lambda a: [[float(x) for x in r] for r in a], out)
        results[mode]["selector_train"] = sel_train
        results[mode]["approximator_train"] = app_train
        results[mode]["full"]["train_batch_loss"] = gpt_train_batch_loss
        # XLA counts the body of the lax.map over eval batches once
        timing[f"eval_{mode}"] = {"total_s": time.perf_counter() - t0,
                                  "flops": ev_flops * cfg.eval_batches}
        timing["total_s"] = time.perf_counter() - t_start
        if on_mode_done is not None:
            on_mode_done(_pipeline_result(cfg, results, per_batch, curves, timing))
    timing["total_s"] = time.perf_counter() - t_start
    return _pipeline_result(cfg, results, per_batch, curves, timing)


def _pipeline_result(cfg, results, per_batch, curves, timing) -> dict:
    return {"config": asdict(cfg), "results": dict(results), "per_batch": dict(per_batch),
            "curves": {k: v.tolist() for k, v in curves.items()}, "timing": dict(timing)}
