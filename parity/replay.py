"""Drive the JAX training engine with a recorded batch stream (the one torch replays too).

The engine draws step `k` of epoch `e` from the key split(fold_in(key, e), K)[k]. The replay Task
finds that key in a table of every step's key and returns the recorded batch at its index; the
engine itself is unchanged. If the engine ever derives its step keys differently, no key matches,
the flag `found` is False and the loss turns NaN, so the engine stops with TrainingDiverged
instead of training on wrong batches.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from jaxbespoke.training.train import OptimConfig, Task, TrainConfig, Trainer


def step_key_table(key, epochs: int, steps: int) -> jax.Array:
    """(epochs * steps, *key_data) : key data of every step, in stream order."""
    ks = jax.vmap(lambda e: jax.random.split(jax.random.fold_in(key, e), steps))(
        jnp.arange(epochs))
    return jax.random.key_data(ks.reshape(-1))


def replay_task(loss_fn, evaluate_fn=None) -> Task:
    """loss_fn(model, batch) -> scalar; evaluate_fn(model, data) -> {metric: scalar}."""

    def sample(key, data, step):
        hit = jnp.all(data["step_keys"] == jax.random.key_data(key), axis=-1)
        i = jnp.argmax(hit)
        return data["x"][i], data["y"][i], jnp.any(hit)

    def loss(model, batch):
        x, y, found = batch
        return jnp.where(found, loss_fn(model, (x, y)), jnp.nan)

    def evaluate(model, key, data):
        return evaluate_fn(model, data) if evaluate_fn is not None else {}

    return Task(sample=sample, loss=loss, evaluate=evaluate,
                active_groups=lambda model, batch: model.active_groups(batch[0]))


class Replay:
    """One model, one recorded stream x (N, ...), y (N, ...) with N = epochs * steps."""

    def __init__(self, model: nnx.Module, optim: OptimConfig, x, y, *, epochs: int, steps: int,
                 loss_fn, evaluate_fn=None, eval_epochs=(), extra_data=None,
                 skip_absent_groups: bool = True, key=None):
        if len(x) != epochs * steps:
            raise ValueError(f"stream holds {len(x)} batches, need {epochs} x {steps}")
        self.key = jax.random.key(0) if key is None else key
        self.data = {"x": jnp.asarray(x), "y": jnp.asarray(y),
                     "step_keys": step_key_table(self.key, epochs, steps), **(extra_data or {})}
        self.cfg = TrainConfig(epochs=epochs, steps_per_epoch=steps, optim=optim,
                               eval_epochs=tuple(eval_epochs),
                               skip_absent_groups=skip_absent_groups)
        graphdef, state = nnx.split(model)
        self.trainer = Trainer(graphdef, replay_task(loss_fn, evaluate_fn), self.cfg,
                               group_of=model.group_of)
        self.state = self.trainer.init(jax.tree.map(lambda a: a[None], state))  # one seed
        self.graphdef = graphdef

    def _batched(self):
        return (jax.tree.map(lambda a: a[None], self.data),
                jax.tree.map(lambda a: a[None], self.key))

    def step_losses(self) -> np.ndarray:
        """Run every epoch with the engine's compiled epoch; (epochs, steps) losses."""
        data, keys = self._batched()
        params, rest, opt = self.state
        out = []
        for e in range(self.cfg.epochs):
            params, opt, losses = self.trainer._epoch(params, rest, opt, data, keys, jnp.int32(e))
            out.append(np.asarray(losses[0]))
        self.state = (params, rest, opt)
        return np.stack(out)

    def fit(self):
        """The engine's driver (evaluation, NaN check) end to end; returns its History."""
        data, keys = self._batched()
        self.state, hist = self.trainer.fit(self.state, data, keys, [0], progress=False)
        return hist

    def model(self) -> nnx.Module:
        params, rest, _ = self.state
        return nnx.merge(self.graphdef, jax.tree.map(lambda a: a[0], params),
                         jax.tree.map(lambda a: a[0], rest))
