"""Train one model family over seeds: the path every experiment takes through the engine.

    result = fit_seeds(make_model, init_keys, task, train_cfg, data, train_keys, seeds)
    result.history.arrays()["train_loss"]    # (S, epochs)
    result.model(0)                          # seed 0's trained nnx.Module
    result.timing.compile_s, result.timing.run_s

`make_model(*init_args_of_one_seed)` builds one model from jax arrays (a key, and e.g. a tier
map); `init_args` stack them over a leading seed axis S (a single array is one argument). The
models are built vmapped and jitted (one compile, not one per initialiser op), compiled ahead
of time, and trained by `train.Trainer` (one program for all seeds); compile and run are timed
apart. With a `checkpoint` (training.checkpoint.RunCheckpoint) the run resumes where an earlier
process stopped, with identical numbers, and a finished run compiles nothing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Sequence

import jax
from flax import nnx

from jaxbespoke.training.train import History, Task, TrainConfig, Trainer, TrainState, init_states

if TYPE_CHECKING:
    from jaxbespoke.training.checkpoint import RunCheckpoint


@dataclass(frozen=True)
class FitTiming:
    """Wall-clock seconds of one fit_seeds call (all seeds together).

    init_s: building the models and the optimiser state (and restoring a checkpoint);
    compile_s: ahead-of-time compilation of the epoch and the evaluation (0 if nothing to run);
    run_s: training epochs start_epoch.. to the end, evaluations included; total_s: compile and
    run; steps: the schedule's steps, steps_run: those run by this call; flops: XLA's count of
    one training step and one evaluation (Trainer.flops; NaN when nothing was compiled)."""

    init_s: float
    compile_s: float
    run_s: float
    total_s: float
    start_epoch: int
    steps: int
    steps_run: int
    flops: dict


@dataclass(frozen=True)
class FitResult:
    """The trained family: graphdef + state (leading seed axis S), history, timing, and the
    trainer (its compiled evaluation serves later evaluations of the same state)."""

    graphdef: Any
    state: TrainState
    history: History
    timing: FitTiming
    trainer: Trainer

    def model_state(self) -> nnx.State:
        """Every seed's model state (nnx.State, leading axis S), for nnx.merge(graphdef, .)."""
        return self.state.model_state()

    def model(self, seed_index: int = 0) -> nnx.Module:
        """The trained model of seed `seed_index` (position in `seeds`, not the seed value)."""
        return nnx.merge(self.graphdef, jax.tree.map(lambda x: x[seed_index], self.model_state()))


def fit_seeds(make_model: Callable[..., nnx.Module], init_args, task: Task, cfg: TrainConfig,
              data, train_keys, seeds: Sequence[int], *,
              checkpoint: RunCheckpoint | None = None, progress: bool = True,
              desc: str = "train", lr_scale=None) -> FitResult:
    """Build, compile and train one model per seed; see the module docstring.

    lr_scale (S,), optional: seed s trains with learning rate cfg.optim.lr x lr_scale[s] (a
    learning-rate sweep run as one vmapped program: repeat the seeds once per value).

    Parameter groups: a model with a `group_of(path)` method and a task with `active_groups` get
    torch's None-grad emulation when cfg.skip_absent_groups is set (train.Trainer). Raises
    TrainingDiverged (with the partial history) as Trainer.fit does."""
    seeds = list(seeds)
    t_init = time.perf_counter()
    args = init_args if isinstance(init_args, tuple) else (init_args,)
    graphdef, states = init_states(make_model, *args)
    model0 = nnx.merge(graphdef, jax.tree.map(lambda x: x[0], states))
    trainer = Trainer(graphdef, task, cfg, group_of=getattr(model0, "group_of", None),
                      lr_scale=lr_scale is not None)
    state = trainer.init(states, lr_scale)
    start, history = 0, None
    if checkpoint is not None:   # before compiling: a foreign checkpoint fails fast
        restored = checkpoint.restore(state)
        if restored is not None:
            state, history, start = restored
    t0 = time.perf_counter()
    init_s = t0 - t_init
    compiled = start < cfg.epochs
    compile_s = trainer.compile(state, data, train_keys) if compiled else 0.0
    t1 = time.perf_counter()
    if checkpoint is not None:
        checkpoint.start_clock()
    state, history = trainer.fit(state, data, train_keys, seeds, history=history,
                                 start_epoch=start, progress=progress, desc=desc,
                                 on_epoch_end=None if checkpoint is None
                                 else checkpoint.on_epoch_end)
    jax.block_until_ready(state)
    t2 = time.perf_counter()
    flops = trainer.flops() if compiled else {"step": float("nan"), "eval": float("nan")}
    timing = FitTiming(init_s=init_s, compile_s=compile_s, run_s=t2 - t1, total_s=t2 - t0,
                       start_epoch=start, steps=cfg.epochs * cfg.steps_per_epoch,
                       steps_run=(cfg.epochs - start) * cfg.steps_per_epoch, flops=flops)
    return FitResult(graphdef, state, history, timing, trainer)
