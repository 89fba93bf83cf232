"""The original scripts' training tasks, as a registry: TASKS[run.task].

Each task bundles what an experiment needs of it:
- `engine_task(run)`: the engine's Task (sample(key, data, step), loss, evaluate), faithful to the
  script (its batch order, its target, its "final loss");
- `low_noise`: the evaluated metric with little sampling noise (every window of a held-out or
  the whole segment), which the replication report compares beside the original's figure;
- `floor(run, p, rng, n_mc)`: the best expected loss given what the model sees (floors.py);
- `data`: which segments of the corpus the task reads (runner.build_data).

How to add a task: subclass PresetTask, give it a name, its low-noise metric, `engine_task` and
(if the generic floor does not hold) `floor`, and register one instance in TASKS.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from jaxbespoke.data import corpus
from jaxbespoke.nn.losses import cross_entropy, cross_entropy_each
from jaxbespoke.protocols import floors
from jaxbespoke.protocols.presets.configs import RunConfig
from jaxbespoke.training.train import Task


def mode(x_NT, vocab):
    """torch.mode: the most frequent value, ties to the smallest id."""
    return jnp.argmax(jax.nn.one_hot(x_NT, vocab, dtype=jnp.int32).sum(-2), axis=-1)


def _chunked_mean(fn, xs, chunk: int):
    """Mean of fn(x_chunk) -> per-example losses over the leading axis, in chunks (memory)."""
    n = jax.tree.leaves(xs)[0].shape[0]
    k = -(-n // chunk)
    pad = k * chunk - n
    xs = jax.tree.map(lambda a: jnp.concatenate([a, jnp.repeat(a[-1:], pad, 0)])
                      .reshape((k, chunk) + a.shape[1:]), xs)
    w = (jnp.arange(k * chunk) < n).reshape(k, chunk)
    sums = jax.lax.map(lambda c: (fn(c[0]) * c[1]).sum(), (xs, w))
    return sums.sum() / n


def _tiles(data_N, T):
    """Non-overlapping windows with targets at every position: each val token predicted once."""
    n = (data_N.shape[-1] - 1) // T
    idx = jnp.arange(n)[:, None] * T + jnp.arange(T)[None]
    return data_N[idx], data_N[idx + 1]


def _active(model, batch):
    return model.active_groups(batch[0])


def _pooled_loss(model, batch):
    return cross_entropy(model(batch[0]), batch[1])


def _pooled_each(model):
    return lambda xy: cross_entropy_each(model(xy[0]), xy[1])


class _Sequence:
    """Targets at every position (an encoder LM; dropout keyed by the batch's third item)."""

    def __init__(self, run: RunConfig):
        self.V, self.enc = run.vocab, run.body == "encoder"

    def fwd(self, model, x, key=None):
        return model(x, key) if self.enc else model(x)

    def loss(self, model, batch):
        x, y, key = batch
        return cross_entropy(self.fwd(model, x, key).reshape(-1, self.V), y.reshape(-1))

    def each(self, model):
        return lambda xy: cross_entropy_each(self.fwd(model, xy[0]), xy[1]).mean(-1)


class PresetTask:
    """One original task; see the module docstring."""

    name: str
    low_noise: str
    data: str = "corpus"      # 'corpus' (train/val per run.train_frac), 'working', 'none'

    def engine_task(self, run: RunConfig) -> Task:
        raise NotImplementedError

    # floor(run, p, rng, n_mc) -> dict: the task's floor rule (protocols.floors)
    floor = staticmethod(floors.next_token_floor)


class NextAll(PresetTask):
    """Random windows, targets at every position; the original's validation estimate (its first
    `val_batches` random batches) and every validation token once (low noise)."""

    name, low_noise = "next_all", "val_full"

    def engine_task(self, run):
        T, B = run.window, run.batch
        seq = _Sequence(run)

        def sample(key, data, step):
            ks, kd = jax.random.split(key)
            starts = corpus.sample_starts(ks, data["train"].shape[-1], T, B)
            idx = starts[:, None] + jnp.arange(T)
            return data["train"][idx], data["train"][idx + 1], kd

        def evaluate(model, key, data):
            val = data["val"]
            starts = corpus.sample_starts(key, val.shape[-1], T, B * run.val_batches)
            idx = starts[:, None] + jnp.arange(T)
            # the original: mean over its first `val_batches` random batches; = mean per position
            orig = _chunked_mean(seq.each(model), (val[idx], val[idx + 1]), B)
            full = _chunked_mean(seq.each(model), _tiles(val, T), B)
            return {"val_original": orig, "val_full": full}

        return Task(sample, seq.loss, evaluate, active_groups=_active)


class Working(PresetTask):
    """The 3-epoch test: the same 10 fixed batches every epoch (batch b starts at T b + 4 i);
    low noise: every held-out token once."""

    name, low_noise, data = "working", "heldout", "working"

    def engine_task(self, run):
        T, B = run.window, run.batch
        seq = _Sequence(run)

        def sample(key, data, step):
            starts = T * (step % run.steps_per_epoch) + 4 * jnp.arange(B)
            idx = starts[:, None] + jnp.arange(T)
            return data["train"][idx], data["train"][idx + 1], key

        def evaluate(model, key, data):
            return {"heldout": _chunked_mean(seq.each(model), _tiles(data["val"], T), B)}

        return Task(sample, seq.loss, evaluate, active_groups=_active)


class Scaling(PresetTask):
    """scaling_test: fixed overlapping windows (step s starts at T s + 8 i), target = the
    window's mode; low noise: every window of the corpus at stride 8."""

    name, low_noise = "scaling", "all_windows"

    def engine_task(self, run):
        T, B, V = run.window, run.batch, run.vocab

        def windows(data_N, starts):
            x = data_N[starts[:, None] + jnp.arange(T)]
            return x, mode(x, V)

        def sample(key, data, step):
            return windows(data["train"], T * step + 8 * jnp.arange(B))

        def evaluate(model, key, data):
            d = data["train"]
            return {"all_windows": _chunked_mean(
                _pooled_each(model), windows(d, 8 * jnp.arange((d.shape[-1] - T) // 8 + 1)), 256)}

        return Task(sample, _pooled_loss, evaluate, active_groups=_active)

    floor = staticmethod(floors.mode_label_floor)


class FirstToken(PresetTask):
    """Target = the window's first token, input = the rest padded with 0; low noise: every
    window of the corpus."""

    name, low_noise = "first_token", "all_windows"

    def engine_task(self, run):
        T, B = run.window, run.batch

        def windows(data_N, starts):
            w = data_N[starts[:, None] + jnp.arange(T)]
            return jnp.concatenate([w[:, 1:], jnp.zeros_like(w[:, :1])], 1), w[:, 0]

        def sample(key, data, step):
            n = data["train"].shape[-1]
            return windows(data["train"], jax.random.randint(key, (B,), 0, n - T))

        def evaluate(model, key, data):
            d = data["train"]
            return {"all_windows": _chunked_mean(
                _pooled_each(model), windows(d, jnp.arange(d.shape[-1] - T)), 256)}

        return Task(sample, _pooled_loss, evaluate, active_groups=_active)


class RandomTarget(PresetTask):
    """Target independent of the input (uniform); low noise: the exact expectation over the
    target on every window."""

    name, low_noise = "random_target", "all_windows"

    def engine_task(self, run):
        T, B, V = run.window, run.batch, run.vocab

        def sample(key, data, step):
            ks, ky = jax.random.split(key)
            starts = corpus.sample_starts(ks, data["train"].shape[-1], T, B)
            return data["train"][starts[:, None] + jnp.arange(T)], jax.random.randint(ky, (B,), 0, V)

        def evaluate(model, key, data):
            d = data["train"]
            x = d[jnp.arange(d.shape[-1] - T)[:, None] + jnp.arange(T)]
            # exact expectation over the uniform target: mean over classes of -log softmax
            return {"all_windows": _chunked_mean(
                lambda c: -jax.nn.log_softmax(model(c[0]), -1).mean(-1), (x,), 256)}

        return Task(sample, _pooled_loss, evaluate, active_groups=_active)

    floor = staticmethod(floors.uniform_label_floor)


class ModeUniform(PresetTask):
    """debug: fresh uniform tokens every step, target = mode; low noise: 4096 fresh windows."""

    name, low_noise, data = "mode_uniform", "fresh_4096", "none"

    def engine_task(self, run):
        T, B, V = run.window, run.batch, run.vocab

        def sample(key, data, step):
            x = jax.random.randint(key, (B, T), 0, V)
            return x, mode(x, V)

        def evaluate(model, key, data):
            x = jax.random.randint(key, (4096, T), 0, V)
            return {"fresh_4096": cross_entropy(model(x), mode(x, V))}

        return Task(sample, _pooled_loss, evaluate, active_groups=_active)

    floor = staticmethod(floors.mode_label_floor)


TASKS: dict[str, PresetTask] = {t.name: t for t in (
    NextAll(), Working(), Scaling(), FirstToken(), RandomTarget(), ModeUniform())}


def make_task(run: RunConfig) -> Task:
    """The engine Task of a run's task."""
    return TASKS[run.task].engine_task(run)
