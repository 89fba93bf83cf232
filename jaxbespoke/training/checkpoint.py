"""Save/restore of any NNX model, and checkpoint + resume for long presets (orbax).

For your own model: `save(path, model)` writes every variable of a model (or of an `nnx.State`)
to a new folder; `restore(path, model)` reads it back into a model of the same structure, either a
concrete one (updated in place) or an abstract one from `nnx.eval_shape` (no memory spent on a
throwaway initialisation):

    save("/tmp/ckpt", model)
    abstract = nnx.eval_shape(lambda: MyModel(..., rngs=nnx.Rngs(0)))
    model = restore("/tmp/ckpt", abstract)

The engine's checkpoints (RunCheckpoint below) are a different thing: one holds the engine state
(params, other model state, optimiser state: all seeds) and, as JSON, the history so far plus a
fingerprint of the configuration that wrote it. The engine's
step keys derive from (seed, epoch), so resuming at epoch e replays exactly what an uninterrupted
run would have done: the final numbers are identical.

Resuming from a checkpoint written by another configuration raises ConfigError before anything
is written. A step that cannot be read (truncated or corrupted files) is moved aside to
DIR.corrupt/ with one line on stderr and the newest older step is used instead; a lock next to
DIR refuses a second process on the same checkpoint at once. Orbax writes each step to a
temporary folder and renames it when complete, so a kill mid-save leaves the previous checkpoint
intact.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import TypeVar

import jax
import numpy as np
import orbax.checkpoint as ocp
from flax import nnx

from jaxbespoke.utils import outputs
from jaxbespoke.utils.errors import ConfigError
from jaxbespoke.training.train import History, TrainState


Target = TypeVar("Target", nnx.Module, nnx.State)


def _state_of(target: nnx.Module | nnx.State) -> nnx.State:
    if isinstance(target, nnx.State):
        return target
    if isinstance(target, nnx.Module):
        return nnx.state(target)
    raise ConfigError(f"save/restore take an nnx.Module or nnx.State, got {type(target).__name__}")


def save(path: str | os.PathLike, model_or_state: nnx.Module | nnx.State, *,
         overwrite: bool = False) -> Path:
    """Write every variable of an NNX model or state (parameters, tier maps, RNG state, ...) to
    the folder `path` with orbax; returns its absolute path. An existing `path` is a ConfigError
    unless overwrite=True. Orbax writes to a temporary folder and renames it when complete."""
    path = Path(path).resolve()
    state = _state_of(model_or_state)
    if path.exists():
        if not overwrite:
            raise ConfigError(f"{path} already exists; pass overwrite=True to replace it")
        shutil.rmtree(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with ocp.StandardCheckpointer() as ckptr:
        ckptr.save(path, nnx.to_pure_dict(state))
        ckptr.wait_until_finished()
    return path


def _stored_shape(leaf) -> tuple:
    # orbax stores a typed PRNG key as its raw uint32 data
    if jax.dtypes.issubdtype(leaf.dtype, jax.dtypes.prng_key):
        return tuple(jax.eval_shape(jax.random.key_data, leaf).shape)
    return tuple(leaf.shape)


def _flat_names(tree) -> dict:
    flat = jax.tree_util.tree_flatten_with_path(tree)[0]
    return {".".join(str(getattr(k, "key", getattr(k, "idx", k))) for k in p): v for p, v in flat}


def restore(path: str | os.PathLike, model_or_abstract: Target) -> Target:
    """Read a folder written by `save` into `model_or_abstract`, a model or state of the same
    structure: a concrete model is updated in place, an abstract one (`nnx.eval_shape`) becomes
    concrete; returns it. Values take the target's dtypes. A missing folder, or a variable that is
    missing, extra or shaped differently, raises ConfigError naming it before anything changes."""
    path = Path(path).resolve()
    if not path.is_dir():
        raise ConfigError(f"no saved model at {path}")
    state = _state_of(model_or_abstract)
    template = nnx.to_pure_dict(state)
    with ocp.StandardCheckpointer() as ckptr:
        try:
            stored = ckptr.metadata(path)
        except Exception as e:  # noqa: BLE001 - orbax raises many kinds for a foreign folder
            raise ConfigError(f"{path} is not a saved model ({type(e).__name__})") from None
        stored = _flat_names(getattr(stored, "item_metadata", stored))
        want = _flat_names(template)
        for name, leaf in want.items():
            if name not in stored:
                raise ConfigError(f"{path} lacks variable {name!r} (the model expects shape "
                                  f"{_stored_shape(leaf)})")
            if tuple(stored[name].shape) != _stored_shape(leaf):
                raise ConfigError(f"variable {name!r} in {path} has shape "
                                  f"{tuple(stored[name].shape)}, the model expects "
                                  f"{_stored_shape(leaf)}")
        extra = sorted(set(stored) - set(want))
        if extra:
            raise ConfigError(f"{path} holds variable {extra[0]!r}, which the model lacks")
        abstract = jax.tree.map(lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype), template)
        values = ckptr.restore(path, abstract)
    nnx.replace_by_pure_dict(state, values)
    if isinstance(model_or_abstract, nnx.Module):
        nnx.update(model_or_abstract, state)
    return model_or_abstract


def _history_to_json(h: History) -> dict:
    return {"seeds": list(h.seeds), "train_loss": [np.asarray(v).tolist() for v in h.train_loss],
            "eval_epochs": list(h.eval_epochs),
            "evals": {k: [np.asarray(v).tolist() for v in vs] for k, vs in h.evals.items()}}


def _history_from_json(d: dict) -> History:
    f32 = lambda v: np.asarray(v, np.float32)  # noqa: E731
    return History(seeds=d["seeds"], train_loss=[f32(v) for v in d["train_loss"]],
                   eval_epochs=list(d["eval_epochs"]),
                   evals={k: [f32(v) for v in vs] for k, vs in d["evals"].items()})


class _quiet_stderr:
    """Capture file descriptor 2 (C and Python writes alike) for the duration; `.text` holds it."""

    def __enter__(self):
        import tempfile

        sys.stderr.flush()
        self._tmp = tempfile.TemporaryFile(mode="w+b")
        self._saved = os.dup(2)
        os.dup2(self._tmp.fileno(), 2)
        self.text = ""
        return self

    def __exit__(self, *exc):
        sys.stderr.flush()
        os.dup2(self._saved, 2)
        os.close(self._saved)
        self._tmp.seek(0)
        self.text = self._tmp.read().decode("utf-8", "replace")
        self._tmp.close()
        return False


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
        # a second process on the same checkpoint is refused at once (outputs.acquire)
        try:
            self.dir.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise ConfigError(f"checkpoint folder {self.dir.parent}: {e.strerror}") from None
        from jaxbespoke.utils.parallel import is_writer

        if is_writer():  # the processes of one multi-process run share it; only process 0 locks
            outputs.acquire(self.dir.parent / f".{self.dir.name}.lock", f"checkpoint {self.dir}")
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

    def _newest_readable(self, template=None):
        """(step, restored items) of the newest step that restores (meta, and the state if a
        template is given), or None. An unreadable step (truncated or corrupted files) is moved
        aside to DIR.corrupt/ with one line on stderr, and the next older one is tried."""
        while (step := self.latest()) is not None:
            items = {"meta": ocp.args.JsonRestore()}
            if template is not None:
                items["state"] = ocp.args.StandardRestore(list(template))
            try:
                with _quiet_stderr() as noise:  # orbax/asyncio print tracebacks of their own
                    got = self.mgr.restore(step, args=ocp.args.Composite(**items))
                if not isinstance(got["meta"], dict) or "fingerprint" not in got["meta"]:
                    raise ValueError("no fingerprint in its metadata")
                sys.stderr.write(noise.text)
                return step, got
            except Exception as e:  # noqa: BLE001 - orbax/tensorstore raise many kinds
                why = (str(e).strip().splitlines() or [""])[0][:160]
                aside = self.dir.with_name(self.dir.name + ".corrupt") / f"{step}-{time.time_ns()}"
                aside.parent.mkdir(parents=True, exist_ok=True)
                self._mgr = None  # re-list the steps after the move (close() races orbax)
                (self.dir / str(step)).rename(aside)
                older = self.latest()
                print(f"warning: checkpoint {self.dir / str(step)} is unreadable "
                      f"({type(e).__name__}: {why}); moved it to {aside} and "
                      + (f"falling back to step {older}" if older is not None
                         else "starting from scratch"), file=sys.stderr)
        return None

    def close(self) -> None:
        if self._mgr is not None:
            self._mgr.close()
            self._mgr = None

    def check(self) -> None:
        """ConfigError if the folder holds a checkpoint of another configuration."""
        found = self._newest_readable()
        if found is None:
            return
        self._check_meta(found[1]["meta"])

    def _check_meta(self, meta) -> None:
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
        self.check()  # a foreign configuration is refused before any step is moved aside
        found = self._newest_readable(template)
        if found is None:
            return None
        step, got = found
        self._check_meta(got["meta"])
        self.train_s_prior = got["meta"].get("train_s")
        state = got["state"]
        if isinstance(template, TrainState):   # orbax gives back a plain sequence
            state = TrainState(*state)
        return state, _history_from_json(got["meta"]["history"]), step

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
