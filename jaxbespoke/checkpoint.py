"""Checkpoint and resume for long presets (orbax).

A checkpoint holds the engine state (params, other model state, optimiser state: all seeds) and,
as JSON, the history so far plus a fingerprint of the configuration that wrote it. The engine's
step keys derive from (seed, epoch), so resuming at epoch e replays exactly what an uninterrupted
run would have done: the final numbers are identical.

Resuming from a checkpoint written by another configuration raises ConfigError before anything
is written. Orbax writes each step to a temporary folder and renames it when complete, so a kill
mid-save leaves the previous checkpoint intact.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import orbax.checkpoint as ocp

from .errors import ConfigError
from .train import History


def _history_to_json(h: History) -> dict:
    return {"seeds": list(h.seeds), "train_loss": [np.asarray(v).tolist() for v in h.train_loss],
            "eval_epochs": list(h.eval_epochs),
            "evals": {k: [np.asarray(v).tolist() for v in vs] for k, vs in h.evals.items()}}


def _history_from_json(d: dict) -> History:
    f32 = lambda v: np.asarray(v, np.float32)  # noqa: E731
    return History(seeds=d["seeds"], train_loss=[f32(v) for v in d["train_loss"]],
                   eval_epochs=list(d["eval_epochs"]),
                   evals={k: [f32(v) for v in vs] for k, vs in d["evals"].items()})


def _canon(obj) -> str:
    return json.dumps(obj, sort_keys=True, default=str)


class RunCheckpoint:
    """Checkpoints of one training run in `directory`; step number = completed epochs."""

    def __init__(self, directory, fingerprint: dict, *, every: int = 1, last_epoch: int | None = None,
                 keep: int = 2):
        if every < 1:
            raise ConfigError(f"checkpoint interval must be >= 1 epoch, got {every}")
        self.dir = Path(directory).resolve()
        self.fingerprint, self.every, self.last_epoch = fingerprint, every, last_epoch
        self._mgr = None
        self.keep = keep
        self.train_s_prior = 0.0      # training seconds spent before this process (None: unknown)
        self._t_start = time.perf_counter()

    @property
    def mgr(self):
        if self._mgr is None:
            opts = ocp.CheckpointManagerOptions(max_to_keep=self.keep, create=True,
                                                enable_async_checkpointing=False)
            self._mgr = ocp.CheckpointManager(self.dir, options=opts,
                                              item_names=("state", "meta"))
        return self._mgr

    def latest(self) -> int | None:
        if not self.dir.exists():
            return None
        return self.mgr.latest_step()

    def check(self) -> None:
        """ConfigError if the folder holds a checkpoint of another configuration."""
        step = self.latest()
        if step is None:
            return
        meta = self.mgr.restore(step, args=ocp.args.Composite(meta=ocp.args.JsonRestore()))["meta"]
        if _canon(meta["fingerprint"]) != _canon(json.loads(_canon(self.fingerprint))):
            theirs, mine = meta["fingerprint"], json.loads(_canon(self.fingerprint))
            diff = sorted(k for k in set(theirs) | set(mine) if theirs.get(k) != mine.get(k))
            if "run" in diff and isinstance(theirs.get("run"), dict):
                diff = [f"run.{k}" for k in sorted(set(theirs["run"]) | set(mine["run"]))
                        if theirs["run"].get(k) != mine["run"].get(k)] + \
                       [d for d in diff if d != "run"]
            raise ConfigError(f"checkpoint in {self.dir} was written by another configuration "
                              f"(differs in: {', '.join(diff)}); refusing to resume or overwrite "
                              f"it: use another output folder or delete it")

    def restore(self, template):
        """(state, history, start_epoch) from the latest checkpoint, or None if there is none."""
        self.check()
        step = self.latest()
        if step is None:
            return None
        got = self.mgr.restore(step, args=ocp.args.Composite(
            state=ocp.args.StandardRestore(list(template)), meta=ocp.args.JsonRestore()))
        self.train_s_prior = got["meta"].get("train_s")
        return tuple(got["state"]), _history_from_json(got["meta"]["history"]), step

    def start_clock(self) -> None:
        """Training (not compiling) starts now: saves record the cumulative training seconds."""
        self._t_start = time.perf_counter()

    def save(self, epoch: int, state, history: History) -> None:
        train_s = (None if self.train_s_prior is None
                   else self.train_s_prior + time.perf_counter() - self._t_start)
        meta = {"fingerprint": json.loads(_canon(self.fingerprint)),
                "history": _history_to_json(history), "epochs_done": epoch + 1,
                "train_s": train_s}
        self.mgr.save(epoch + 1, args=ocp.args.Composite(
            state=ocp.args.StandardSave(list(state)), meta=ocp.args.JsonSave(meta)))
        self.mgr.wait_until_finished()

    def on_epoch_end(self, epoch, state, history) -> None:
        if (epoch + 1) % self.every == 0 or epoch == self.last_epoch:
            self.save(epoch, state, history)
