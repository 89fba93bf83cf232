"""The one training engine.

A training step is a pure jitted function of (params, opt_state, key, data). An epoch is one
`lax.scan` over its steps; seeds are a leading axis that `jax.vmap` maps over, so one compiled
program trains every seed at once (with several devices or hosts, each runs its own block of
seeds: see parallel.py). Epochs are driven from Python one at a time: that gives a
progress bar, a NaN check that names the epoch and seed, and a natural checkpoint boundary, at the
cost of one dispatch per epoch.

The engine knows nothing of tiers or corpora: an experiment hands it a `Task` (sample, loss,
evaluate, and optionally which parameter groups a batch uses) and a `TrainConfig`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from jaxbespoke.training import streams
from jaxbespoke.utils import parallel
from jaxbespoke.utils.errors import ConfigError, TrainingDiverged, check_positive


# --------------------------------------------------------------------------- optimiser
@dataclass(frozen=True)
class OptimConfig:
    """Optimiser with PyTorch semantics.

    name: 'adam' (torch.optim.Adam) or 'adamw' (torch.optim.AdamW, decoupled decay; torch's
    default weight_decay is 0.01, optax's 1e-4, so it is always explicit here).
    clip_norm: torch clip_grad_norm_ (coefficient max/(norm + 1e-6), capped at 1), or None.
    schedule: 'constant' or 'cosine_epoch' (CosineAnnealingLR(T_max) stepped once per epoch).
    """

    name: str = "adam"
    lr: float = 1e-3
    b1: float = 0.9
    b2: float = 0.999
    eps: float = 1e-8
    weight_decay: float = 0.0
    clip_norm: float | None = None
    schedule: str = "constant"
    cosine_t_max: int | None = None

    def __post_init__(self):
        if self.name not in ("adam", "adamw"):
            raise ConfigError(f"unknown optimiser {self.name!r}; expected 'adam' or 'adamw'")
        if self.schedule not in ("constant", "cosine_epoch"):
            raise ConfigError(f"unknown schedule {self.schedule!r}")
        if not self.lr > 0:
            raise ConfigError(f"learning rate must be > 0, got {self.lr!r}")


def clip_by_global_norm_torch(max_norm: float) -> optax.GradientTransformation:
    """torch.nn.utils.clip_grad_norm_: g * min(1, max_norm / (||g|| + 1e-6)).
    optax.clip_by_global_norm divides by ||g|| without the 1e-6."""

    def update(updates, state, params=None):
        norm = jnp.sqrt(sum(jnp.sum(jnp.square(g)) for g in jax.tree.leaves(updates)))
        coef = jnp.minimum(1.0, max_norm / (norm + 1e-6))
        return jax.tree.map(lambda g: g * coef, updates), state

    return optax.GradientTransformation(lambda p: optax.EmptyState(), update)


def lr_schedule(cfg: OptimConfig, steps_per_epoch: int, epochs: int):
    if cfg.schedule == "constant":
        return cfg.lr
    t_max = cfg.cosine_t_max or epochs

    def schedule(count):
        epoch = count // steps_per_epoch
        return cfg.lr * (1 + jnp.cos(jnp.pi * epoch / t_max)) / 2

    return schedule


def _skip_inactive_groups(inner: optax.GradientTransformation, labels_fn, groups):
    """Per-group copies of `inner`; a group marked inactive for a step keeps its parameters and
    its optimiser state (step counter included) unchanged. This is what torch does for parameters
    whose .grad is None, e.g. a bespoke tier absent from a batch."""
    mt = optax.multi_transform({g: inner for g in groups}, labels_fn)

    def update(updates, state, params=None, *, active=None, **_):
        new_u, new_s = mt.update(updates, state, params)
        if not active:
            return new_u, new_s
        on = {g: jnp.asarray(active.get(g, True)) for g in groups}
        labels = labels_fn(updates)
        new_u = jax.tree.map(lambda u, g: jnp.where(on[g], u, 0.0), new_u, labels)
        inner_states = {g: jax.tree.map(lambda n, o: jnp.where(on[g], n, o),
                                        new_s.inner_states[g], state.inner_states[g])
                        for g in groups}
        return new_u, new_s._replace(inner_states=inner_states)

    return optax.GradientTransformationExtraArgs(mt.init, update)


class LrScaleState(NamedTuple):
    """A learning-rate multiplier carried in the optimiser state: shape () for one model, (S,)
    over seeds, so that one vmapped program trains each seed with its own learning rate."""

    scale: jax.Array


def scale_by_lr_scale() -> optax.GradientTransformation:
    """Multiply the updates by the state's LrScaleState.scale (1 at init). After the learning
    rate: lr * scale * (Adam direction + decoupled decay), i.e. exactly a learning rate of
    lr * scale, decay included, as torch's AdamW with that learning rate."""

    def init(params):
        return LrScaleState(jnp.ones((), jnp.float32))

    def update(updates, state, params=None):
        return jax.tree.map(lambda u: u * state.scale, updates), state

    return optax.GradientTransformation(init, update)


def make_optimizer(cfg: OptimConfig, steps_per_epoch: int, epochs: int,
                   labels_fn: Callable | None = None, groups=(), lr_scale: bool = False):
    """clip (global) -> Adam moments [+ decoupled decay] per group -> learning rate (global step)
    [-> per-seed learning-rate multiplier, with lr_scale]."""
    per_group = [optax.scale_by_adam(cfg.b1, cfg.b2, cfg.eps)]
    if cfg.name == "adamw" and cfg.weight_decay:
        per_group.append(optax.add_decayed_weights(cfg.weight_decay))
    inner = optax.chain(*per_group)
    if labels_fn is not None and len(groups) > 1:
        inner = _skip_inactive_groups(inner, labels_fn, groups)
    chain = [inner, optax.scale_by_learning_rate(lr_schedule(cfg, steps_per_epoch, epochs))]
    if cfg.clip_norm is not None:
        chain.insert(0, clip_by_global_norm_torch(cfg.clip_norm))
    if lr_scale:
        chain.append(scale_by_lr_scale())
    return optax.chain(*chain)


# --------------------------------------------------------------------------- engine
@dataclass(frozen=True)
class Task:
    """Pure per-seed functions an experiment gives the engine.

    sample(key, data, step) -> batch, with `step` the global step index (int32: the original's
    deterministic batch orders read it, e.g. batch b = corpus[64 b : ...]; random ones ignore it);
    loss(model, batch) -> scalar;  evaluate(model, key, data) -> {metric: scalar};
    active_groups(model, batch) -> {group: bool} (optional: torch None-grad emulation).
    loss_limit: a finite loss above this is a blow-up, reported as divergence like NaN/inf
    (e.g. 10 x ln V for a cross-entropy: far above a uniform predictor's ln V); it applies to
    the training loss and to the evaluated metrics named in limit_metrics. Every evaluated
    metric is checked for NaN/inf whatever the limit.
    """

    sample: Callable
    loss: Callable
    evaluate: Callable
    active_groups: Callable | None = None
    loss_limit: float | None = None
    limit_metrics: tuple[str, ...] = ()


@dataclass(frozen=True)
class TrainConfig:
    """How long to train (epochs x steps_per_epoch), with what optimiser, which epochs to
    evaluate after, and whether to skip Adam updates of parameter groups absent from a batch.

    halt_on_divergence: False keeps training when some seeds' losses become NaN/inf (their
    history keeps the NaN; the other seeds are unaffected, each seed being its own model), for
    sweeps where a diverging setting is a result, not an error."""

    epochs: int
    steps_per_epoch: int
    optim: OptimConfig = field(default_factory=OptimConfig)
    eval_epochs: tuple[int, ...] = ()
    skip_absent_groups: bool = False
    halt_on_divergence: bool = True

    def __post_init__(self):
        check_positive("epochs", self.epochs)
        check_positive("steps per epoch", self.steps_per_epoch)
        if self.epochs * self.steps_per_epoch > 2**31 - 1:  # the global step is int32
            raise ConfigError(f"{self.epochs} epochs x {self.steps_per_epoch} steps per epoch = "
                              f"{self.epochs * self.steps_per_epoch:,} steps exceeds the int32 "
                              "step counter (2**31 - 1)")
        bad = [e for e in self.eval_epochs if not 0 <= e < self.epochs]
        if bad:
            raise ConfigError(f"evaluation epochs {bad} lie outside 0..{self.epochs - 1}")


def eval_schedule(epochs: int, every: int) -> tuple[int, ...]:
    """Epoch indices 0, every, 2*every, ... and always the last (the original's eval rule)."""
    return tuple(sorted(set(range(0, epochs, every)) | {epochs - 1}))


@dataclass
class History:
    """Per-seed results; arrays have a leading seed axis S."""

    seeds: list[int]
    train_loss: list = field(default_factory=list)     # per epoch: (S,) mean step loss
    eval_epochs: list = field(default_factory=list)
    evals: dict = field(default_factory=dict)           # metric -> list of (S,) per eval epoch

    def arrays(self) -> dict:
        out = {"train_loss": np.stack(self.train_loss, 1) if self.train_loss else None}
        out.update({k: np.stack(v, 1) for k, v in self.evals.items()})
        return out


class TrainState(NamedTuple):
    """What the engine trains, for S seeds at once (every leaf has a leading seed axis S):
    params, the model's nnx.Param state; rest, the rest of its nnx.State (e.g. counters);
    opt_state, the optimiser state. A pytree (a tuple), saved and restored as one."""

    params: Any
    rest: Any
    opt_state: Any

    def model_state(self):
        """The model's nnx.State (params and the rest merged), leading seed axis S."""
        return nnx.merge_state(self.params, self.rest)


class Trainer:
    """Compiles one epoch and one evaluation for a model graph, vmapped over seeds."""

    def __init__(self, graphdef, task: Task, cfg: TrainConfig, group_of: Callable | None = None,
                 lr_scale: bool = False):
        self.graphdef, self.task, self.cfg = graphdef, task, cfg
        self._lr_scale = lr_scale   # a per-seed learning-rate multiplier in the optimiser state
        labels_fn = None
        if cfg.skip_absent_groups and group_of is not None and task.active_groups is not None:
            def labels_fn(tree):
                return jax.tree_util.tree_map_with_path(
                    lambda p, _: group_of(_path_names(p)), tree)
        self._labels_fn = labels_fn  # the groups themselves are read off the first params seen
        self._tx = None
        self._split = None
        self._programs(parallel.split(1))

    def _programs(self, split: parallel.SeedSplit) -> parallel.SeedSplit:
        """The jitted epoch and evaluation for a seed layout: vmapped over seeds, and with
        several devices each device maps its own block of seeds (parallel.SeedSplit.map)."""
        if split != self._split:
            self._split = split
            self._epoch = jax.jit(split.map(
                jax.vmap(self._epoch_one, in_axes=(0, 0, 0, 0, 0, None)), 5, 1))
            self._eval = jax.jit(split.map(
                jax.vmap(self._eval_one, in_axes=(0, 0, 0, 0, None)), 4, 1))
        return split

    # -- state
    def tx(self, params):
        if self._tx is None:
            groups = ()
            if self._labels_fn is not None:
                groups = tuple(sorted(set(jax.tree.leaves(self._labels_fn(params)))))
            self._tx = make_optimizer(self.cfg.optim, self.cfg.steps_per_epoch, self.cfg.epochs,
                                      self._labels_fn, groups, lr_scale=self._lr_scale)
        return self._tx

    def init(self, states, lr_scale=None) -> TrainState:
        """From vmapped model states (nnx.State with leading S) to the engine's TrainState.
        lr_scale (S,): each seed's learning rate is cfg.optim.lr x lr_scale[s] (the Trainer
        must have been made with lr_scale=True)."""
        params, rest = nnx.split_state(states, nnx.Param, ...)
        one = jax.tree.map(lambda x: x[0], params)
        opt = jax.jit(jax.vmap(self.tx(one).init))(params)
        if lr_scale is not None:
            if not self._lr_scale:
                raise ConfigError("lr_scale given to a Trainer made without lr_scale=True")
            n = jax.tree.leaves(params)[0].shape[0]
            scale_S = np.asarray(lr_scale, np.float32)
            if scale_S.shape != (n,) or not (np.isfinite(scale_S) & (scale_S > 0)).all():
                raise ConfigError(f"lr_scale must be {n} finite positive values (one per seed), "
                                  f"got {np.asarray(lr_scale).tolist()!r}")
            opt = (*opt[:-1], LrScaleState(jnp.asarray(scale_S)))
        return TrainState(params, rest, opt)

    # -- per-seed pure functions
    def _step(self, carry, key, rest, data, step):
        params, opt = carry
        batch = self.task.sample(key, data, step)

        def loss_of(p):
            return self.task.loss(nnx.merge(self.graphdef, p, rest), batch)

        loss, grads = jax.value_and_grad(loss_of)(params)
        extra = {}
        if self._labels_fn is not None:
            extra["active"] = self.task.active_groups(nnx.merge(self.graphdef, params, rest), batch)
        updates, opt = self.tx(params).update(grads, opt, params, **extra)
        return (optax.apply_updates(params, updates), opt), loss

    def _epoch_one(self, params, rest, opt, data, key, epoch):
        keys = streams.epoch_keys(key, epoch, self.cfg.steps_per_epoch)
        steps = epoch * self.cfg.steps_per_epoch + jnp.arange(self.cfg.steps_per_epoch)
        (params, opt), losses = jax.lax.scan(
            lambda c, ks: self._step(c, ks[0], rest, data, ks[1]), (params, opt), (keys, steps))
        return params, opt, losses

    def _eval_one(self, params, rest, data, key, epoch):
        return self.task.evaluate(nnx.merge(self.graphdef, params, rest),
                                  streams.eval_key(key, epoch), data)

    # -- driver
    # Arguments and results of the driver are seed-major and unpadded, whatever the devices:
    # placing them on the mesh and gathering them back happens here (parallel.SeedSplit).
    def compile(self, state, data, keys) -> float:
        """Compile the epoch and the evaluation ahead of time; returns the seconds it took, so
        that compilation and running are timed separately."""
        split = self._programs(parallel.split(_n_seeds(keys)))
        params, rest, opt = split.abstract(state)
        data_, keys_ = split.abstract((data, keys))
        t0 = time.perf_counter()
        e = jnp.int32(0)
        self._epoch = self._epoch.lower(params, rest, opt, data_, keys_, e).compile()
        self._eval = self._eval.lower(params, rest, data_, keys_, e).compile()
        return time.perf_counter() - t0

    def flops(self) -> dict:
        """XLA's cost-analysis FLOPs of the compiled programs (after `compile`), all seeds
        together (per device when the seeds are split over devices): 'step' is one training step
        (XLA counts the epoch's scan body once), 'eval' one evaluation."""
        out = {}
        for name, prog in (("step", self._epoch), ("eval", self._eval)):
            analysis = prog.cost_analysis() if hasattr(prog, "cost_analysis") else None
            if isinstance(analysis, (list, tuple)):
                analysis = analysis[0]
            out[name] = float((analysis or {}).get("flops", float("nan")))
        return out

    def memory(self) -> dict:
        """XLA's buffer plan of the compiled training epoch (after `compile`), in bytes, all
        seeds together: 'arguments', 'outputs', 'temp' (working buffers) and their sum 'total'
        (an upper bound of the epoch's device memory; aliased inputs are counted once)."""
        ma = self._epoch.memory_analysis() if hasattr(self._epoch, "memory_analysis") else None
        if ma is None:
            return {}
        out = {"arguments": int(ma.argument_size_in_bytes), "outputs": int(ma.output_size_in_bytes),
               "temp": int(ma.temp_size_in_bytes)}
        out["total"] = out["arguments"] + out["outputs"] + out["temp"] - int(ma.alias_size_in_bytes)
        return out

    def evaluate(self, params, rest, data, keys, epoch: int) -> dict:
        split = self._programs(parallel.split(_n_seeds(keys)))
        return self._evaluate(split, *split.put((params, rest, data, keys)), epoch)

    def _evaluate(self, split, params, rest, data, keys, epoch: int) -> dict:
        out = self._eval(params, rest, data, keys, jnp.int32(epoch))
        return {k: split.host(v) for k, v in out.items()}

    def fit(self, state: TrainState, data, keys, seeds: list[int], *,
            history: History | None = None, start_epoch: int = 0, progress: bool = True,
            desc: str = "train", on_epoch_end: Callable | None = None
            ) -> tuple[TrainState, History]:
        """Train epochs start_epoch..epochs-1. Raises TrainingDiverged (with the partial history)
        on the first epoch whose loss is not finite for some seed. Most callers want
        `training.fit.fit_seeds`, which also builds the models and times compile and run."""
        from tqdm.auto import tqdm

        split = self._programs(parallel.split(len(seeds)))
        params, rest, opt = split.put(state)
        data, keys = split.put((data, keys))
        history = history or History(seeds=list(seeds))
        bar = tqdm(range(start_epoch, self.cfg.epochs), desc=desc,
                   disable=not progress or not parallel.is_writer(), leave=False, unit="epoch")
        limit, halt = self.task.loss_limit, self.cfg.halt_on_divergence
        for epoch in bar:
            params, opt, losses_SK = self._epoch(params, rest, opt, data, keys, jnp.int32(epoch))
            losses_SK = split.host(losses_SK)
            if halt:
                _check_finite(f"{desc}: training loss", losses_SK, epoch, seeds, history)
                _check_finite(f"{desc}: mean training loss", losses_SK.mean(axis=1), epoch, seeds,
                              history, limit)
            history.train_loss.append(losses_SK.mean(axis=1))
            if epoch in self.cfg.eval_epochs:
                metrics = self._evaluate(split, params, rest, data, keys, epoch)
                for k, v in metrics.items():
                    if halt:
                        _check_finite(f"{desc}: evaluated {k}", v, epoch, seeds, history,
                                      limit if k in self.task.limit_metrics else None)
                history.eval_epochs.append(epoch)
                for k, v in metrics.items():
                    history.evals.setdefault(k, []).append(v)
            bar.set_postfix(loss=f"{float(np.nanmean(losses_SK)):.4f}")
            if on_epoch_end is not None:
                on_epoch_end(epoch, TrainState(*split.gather((params, rest, opt))), history)
        return TrainState(*split.gather((params, rest, opt))), history


def _n_seeds(keys) -> int:
    return jax.tree.leaves(keys)[0].shape[0]


def _check_finite(what: str, values, epoch: int, seeds, history, limit=None) -> None:
    """TrainingDiverged naming the quantity, epoch and seeds if any value (leading axis = seed)
    is NaN/inf, or above `limit`."""
    v = np.asarray(values)
    if not np.issubdtype(v.dtype, np.floating):
        return
    v = v.reshape(v.shape[0], -1) if v.ndim else v.reshape(1, 1)
    bad = ~np.isfinite(v).all(axis=1)
    why = "became NaN/inf"
    if not bad.any() and limit is not None:
        bad = (v > limit).any(axis=1)
        why = f"blew up above {limit:.4g} (the divergence threshold)"
    if bad.any():
        bad_seeds = [seeds[i] for i in np.flatnonzero(bad)] if v.shape[0] == len(seeds) \
            else list(seeds)
        raise TrainingDiverged(f"{what} {why} in epoch {epoch + 1} for seed(s) {bad_seeds}",
                               epoch=epoch, seeds=bad_seeds, partial=history)


def _path_names(path) -> tuple:
    out = []
    for p in path:
        for attr in ("key", "name", "idx"):
            if hasattr(p, attr):
                out.append(getattr(p, attr))
                break
    return tuple(out)


def init_states(make_model: Callable[..., nnx.Module], *args):
    """Build one model per slice of `args` (vmapped over their leading seed axis) and return
    (graphdef, stacked state). make_model(key, ...) must only use jax ops on its arguments."""
    first = jax.tree.map(lambda a: a[0], args)
    graphdef = nnx.graphdef(nnx.eval_shape(lambda: make_model(*first)))
    # jit: an eager vmap dispatches every initialiser op separately (seconds per model)
    return graphdef, jax.jit(jax.vmap(lambda *a: nnx.state(make_model(*a))))(*args)
