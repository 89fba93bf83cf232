"""The original's bespoke experiments as configurations: typed tiering rules, RunConfig, the table.

A preset is one original script; it has one RunConfig per corpus size (scaling has four, btdt
three). Every field is written by keyword and validated: choices are `Literal` types checked
at construction, and the tiering rule is a typed object (`CumMass`, `RankFractions`, ...) that
carries its own arguments and builds the tiers, instead of a name plus a free tuple.

How to add a preset: write its RunConfig(s) in PRESETS below (a new task needs an entry in
tasks.TASKS, a new tiering rule a class here with `rule`, `args` and `__call__`), then a Plan in
plans.PLANS if the replication report should run it other than paired and in full.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Literal, get_args

import numpy as np

from jaxbespoke.data import tiers
from jaxbespoke.nn.encoders import EncoderConfig
from jaxbespoke.training.train import OptimConfig, eval_schedule
from jaxbespoke.utils.errors import ConfigError, check_positive

TaskName = Literal["next_all", "working", "scaling", "first_token", "random_target",
                   "mode_uniform"]
Final = Literal["last_step", "last_epoch", "val_original"]
Body = Literal["pooled", "pooled_ln", "encoder"]
Layout = Literal["replica", "compact", "hashed"]
Compare = Literal["model", "embedding"]
Leak = Literal["copy", "bag"]
InitScheme = Literal["torch", "normal02"]


# --------------------------------------------------------------------------- tiering rules
@dataclass(frozen=True)
class CumMass:
    """Tiers by cumulative frequency mass: high until `thresholds[0]` of the mass, mid until
    `thresholds[1]`, the rest low (tiers.cumulative_mass)."""

    thresholds: tuple[float, ...]
    rule = "cum_mass"

    @property
    def args(self) -> tuple:
        return tuple(self.thresholds)

    def __call__(self, tokens, vocab_size: int) -> tiers.Tiers:
        return tiers.cumulative_mass(tokens, vocab_size, self.thresholds)


@dataclass(frozen=True)
class RankFractions:
    """Tiers by frequency rank: top `fractions[0]` of the observed ids high, up to
    `fractions[1]` mid, the rest low; ids never seen go to tier `unseen` (tiers.rank_fractions)."""

    fractions: tuple[float, float]
    unseen: int
    rule = "rank"

    @property
    def args(self) -> tuple:
        return (*self.fractions, self.unseen)

    def __call__(self, tokens, vocab_size: int) -> tiers.Tiers:
        return tiers.rank_fractions(tokens, vocab_size, self.fractions, unseen=self.unseen)


@dataclass(frozen=True)
class TopBottom:
    """The `n_high` most frequent ids high, the `n_low` least frequent low (tiers.top_bottom)."""

    n_high: int
    n_low: int
    rule = "top_bottom"

    @property
    def args(self) -> tuple:
        return (self.n_high, self.n_low)

    def __call__(self, tokens, vocab_size: int) -> tiers.Tiers:
        return tiers.top_bottom(tokens, vocab_size, self.n_high, self.n_low)


@dataclass(frozen=True)
class TopBottomOverlapping:
    """The original's overlapping top/bottom lists; `winner` takes an id in both
    (tiers.top_bottom_overlapping: the scripts' overwrite order, bug included)."""

    n_high: int
    n_low: int
    winner: Literal["low", "high"]

    def __post_init__(self):
        _check_choice("winner", self.winner, Literal["low", "high"])

    @property
    def rule(self) -> str:
        return f"overlap_{self.winner}"

    @property
    def args(self) -> tuple:
        return (self.n_high, self.n_low)

    def __call__(self, tokens, vocab_size: int) -> tiers.Tiers:
        return tiers.top_bottom_overlapping(tokens, vocab_size, self.n_high, self.n_low,
                                            winner=self.winner)


@dataclass(frozen=True)
class RankWithSpecial:
    """Rank fractions, with ids below `special_below` forced into the top tier
    (tiers.rank_with_special)."""

    fractions: tuple[float, float]
    special_below: int
    rule = "special"

    @property
    def args(self) -> tuple:
        return (*self.fractions, self.special_below)

    def __call__(self, tokens, vocab_size: int) -> tiers.Tiers:
        return tiers.rank_with_special(tokens, vocab_size, self.fractions, self.special_below)


@dataclass(frozen=True)
class ById:
    """debug: split by id, not by frequency (ids < cut, ids >= cut)."""

    cut: int
    rule = "by_id"

    @property
    def args(self) -> tuple:
        return (self.cut,)

    @property
    def names(self) -> tuple[str, str]:
        return (f"ids<{self.cut}", f"ids>={self.cut}")

    def __call__(self, tokens, vocab_size: int) -> tiers.Tiers:
        tier_V = (np.arange(vocab_size) >= self.cut).astype(np.int32)
        return tiers.Tiers(tier_V, self.names, np.arange(vocab_size, dtype=np.int32),
                           np.zeros(vocab_size, np.int64))


Tiering = CumMass | RankFractions | TopBottom | TopBottomOverlapping | RankWithSpecial | ById
TIERING_RULES = (CumMass, RankFractions, TopBottom, TopBottomOverlapping, RankWithSpecial, ById)


def _check_choice(name: str, value, choices) -> None:
    allowed = get_args(choices)
    if value not in allowed:
        raise ConfigError(f"unknown {name.replace('_', ' ')} {value!r}; expected one of "
                          f"{', '.join(map(repr, allowed))}")


# --------------------------------------------------------------------------- RunConfig
@dataclass(frozen=True, kw_only=True)
class RunConfig:
    """One training configuration of an original script (a preset has one per corpus size).

    task (tasks.TASKS): 'next_all' (targets at every position, random windows), 'working' (the
    3-epoch test's fixed 10 batches), 'scaling' (fixed overlapping windows, target = mode),
    'first_token' (target = the window's first token, input = the rest padded with 0),
    'random_target' (target independent of the input), 'mode_uniform' (fresh uniform tokens,
    target = mode).
    final: what the original called the final loss: 'last_step' (one training batch),
    'last_epoch' (mean training loss of the last epoch) or 'val_original' (its validation sample).
    zipf None: no corpus (fresh uniform batches); train_frac None: no train/validation split.
    compare: the original compared whole models or embeddings only; leak: 'copy' (unmasked
    encoder with positions: floor H/T) or 'bag' (unmasked, no positions).
    """

    name: str
    preset: str
    vocab: int
    dim: int
    window: int
    batch: int
    corpus_size: int
    zipf: float | None
    train_frac: float | None
    epochs: int
    steps_per_epoch: int
    optim: OptimConfig
    task: TaskName
    tiering: Tiering
    dims: tuple[int, ...]
    layout: Layout = "replica"
    proj_bias: bool = True
    identity_when_equal: bool = True
    body: Body = "pooled"
    encoder: EncoderConfig | None = None
    init: InitScheme = "torch"
    final: Final = "last_step"
    eval_every: int | None = None
    val_batches: int = 0
    skip_absent: bool = True
    compare: Compare = "model"
    leak: Leak | None = None

    def __post_init__(self):
        for name, choices in (("task", TaskName), ("final", Final), ("body", Body),
                              ("layout", Layout), ("compare", Compare), ("init", InitScheme)):
            _check_choice(name, getattr(self, name), choices)
        if self.leak is not None:
            _check_choice("leak", self.leak, Leak)
        if not isinstance(self.tiering, TIERING_RULES):
            raise ConfigError(f"{self.name}: tiering must be a tiering rule "
                              f"({', '.join(c.__name__ for c in TIERING_RULES)}), "
                              f"got {self.tiering!r}")
        if not isinstance(self.optim, OptimConfig):
            raise ConfigError(f"{self.name}: optim must be an OptimConfig, got {self.optim!r}")
        for name in ("vocab", "dim", "window", "batch", "epochs", "steps_per_epoch"):
            check_positive(name.replace("_", " "), getattr(self, name))
        if self.zipf is not None:
            check_positive("corpus size", self.corpus_size)
        if not self.dims or any(not isinstance(d, int) or d < 1 for d in self.dims):
            raise ConfigError(f"{self.name}: tier dims must be positive integers, got {self.dims}")
        if (self.body == "encoder") != (self.encoder is not None):
            raise ConfigError(f"{self.name}: an encoder config goes with body 'encoder' (and "
                              f"only with it); body {self.body!r}, encoder {self.encoder!r}")
        if self.final == "val_original" and self.val_batches < 1:
            raise ConfigError(f"{self.name}: final 'val_original' needs val_batches >= 1")

    @property
    def steps(self) -> int:
        return self.epochs * self.steps_per_epoch

    @property
    def eval_epochs(self) -> tuple[int, ...]:
        return eval_schedule(self.epochs, self.eval_every) if self.eval_every else (self.epochs - 1,)

    def record(self) -> dict:
        """The configuration as plain JSON-able data, the tiering as (rule name, arguments): the
        layout checkpoints were fingerprinted with before the rules were typed, so that they
        still resume."""
        d = {f.name: getattr(self, f.name) for f in fields(self)}
        d = {k: asdict(v) if hasattr(v, "__dataclass_fields__") else v for k, v in d.items()}
        d["tiering"], d["tier_args"] = self.tiering.rule, self.tiering.args
        return _jsonable(d)


def _jsonable(o):
    if isinstance(o, dict):
        return {k: _jsonable(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_jsonable(v) for v in o]
    return o


def make_tiers(run: RunConfig, tokens) -> tiers.Tiers:
    """The run's tiering rule applied to a corpus (host-side numpy)."""
    return run.tiering(tokens, run.vocab)


# --------------------------------------------------------------------------- the table
def _adamw(lr, epochs):
    return OptimConfig("adamw", lr=lr, weight_decay=0.01, clip_norm=1.0, schedule="cosine_epoch",
                       cosine_t_max=epochs)


ADAM3 = OptimConfig("adam", lr=1e-3)


def _scaling(n, steps):
    return RunConfig(name=f"scaling_{n // 1000}k", preset="scaling", vocab=200, dim=128,
                     window=64, batch=8, corpus_size=n, zipf=1.1, train_frac=None, epochs=steps,
                     steps_per_epoch=1, optim=ADAM3, task="scaling",
                     tiering=TopBottomOverlapping(30, 170, winner="low"), dims=(224, 128, 32),
                     proj_bias=False, body="pooled_ln")


def _btdt(n, val_batches):
    return RunConfig(name=f"btdt_{n // 1000}k", preset="btdt", vocab=500, dim=128, window=64,
                     batch=32, corpus_size=n, zipf=1.0, train_frac=0.8, epochs=5,
                     steps_per_epoch=100, optim=OptimConfig("adamw", lr=3e-4, weight_decay=0.01),
                     task="next_all", tiering=RankWithSpecial((0.2, 0.8), special_below=10),
                     dims=(192, 128, 64, 32), identity_when_equal=False, body="encoder",
                     encoder=EncoderConfig(128, 4, 512, 3, norm="pre", positions=64,
                                           final_norm=True, head_bias=False, init="normal02"),
                     init="normal02", final="val_original", eval_every=1,
                     val_batches=val_batches, skip_absent=False, leak="copy")


PRESETS: dict[str, tuple[RunConfig, ...]] = {
    "medium": (RunConfig(name="medium", preset="medium", vocab=500, dim=128, window=32, batch=16,
                         corpus_size=50_000, zipf=1.3, train_frac=0.85, epochs=100,
                         steps_per_epoch=200, optim=_adamw(5e-4, 100), task="next_all",
                         tiering=CumMass((0.6, 0.85)), dims=(192, 128, 64), layout="compact",
                         proj_bias=False, body="encoder", encoder=EncoderConfig(128, 4, 256, 1),
                         final="val_original", eval_every=20, val_batches=30, leak="bag"),),
    "long": (RunConfig(name="long", preset="long", vocab=1000, dim=256, window=64, batch=16,
                       corpus_size=100_000, zipf=1.2, train_frac=0.8, epochs=500,
                       steps_per_epoch=1000, optim=_adamw(1e-4, 500), task="next_all",
                       tiering=CumMass((0.7, 0.9)), dims=(332, 256, 153), layout="compact",
                       proj_bias=False, body="encoder",
                       encoder=EncoderConfig(256, 8, 1024, 6, positions=64, final_norm=True,
                                             init="normal02"),
                       init="normal02", final="val_original", eval_every=50, val_batches=50,
                       leak="copy"),),
    "definitive": (RunConfig(name="definitive", preset="definitive", vocab=1000, dim=128,
                             window=32, batch=16, corpus_size=200_000, zipf=1.2, train_frac=0.85,
                             epochs=700, steps_per_epoch=500, optim=_adamw(1e-4, 700),
                             task="next_all", tiering=RankFractions((0.1, 0.8), unseen=1),
                             dims=(179, 128, 76), layout="compact", proj_bias=False,
                             body="encoder",
                             encoder=EncoderConfig(128, 8, 512, 4, positions=32, final_norm=True,
                                                   init="normal02"),
                             init="normal02", final="val_original", eval_every=50,
                             val_batches=100, leak="copy"),),
    "scaling": tuple(_scaling(n, s) for n, s in
                     ((1_000, 5), (5_000, 10), (20_000, 15), (50_000, 20))),
    "initial": (RunConfig(name="initial", preset="initial", vocab=100, dim=64, window=32, batch=8,
                          corpus_size=5_000, zipf=1.2, train_frac=None, epochs=3,
                          steps_per_epoch=10, optim=ADAM3, task="working",
                          tiering=TopBottomOverlapping(20, 80, winner="high"), dims=(96, 64, 32),
                          body="encoder", encoder=EncoderConfig(64, 4, 128, 1),
                          final="last_epoch", leak="bag"),),
    "optimized": (RunConfig(name="optimized", preset="optimized", vocab=200, dim=128, window=64,
                            batch=8, corpus_size=20_000, zipf=1.1, train_frac=None, epochs=50,
                            steps_per_epoch=1, optim=ADAM3, task="first_token",
                            tiering=CumMass((0.8, 0.95)), dims=(160, 128, 51), layout="compact",
                            proj_bias=False, compare="embedding"),),
    "ultra": (RunConfig(name="ultra", preset="ultra", vocab=200, dim=128, window=64, batch=8,
                        corpus_size=20_000, zipf=1.1, train_frac=None, epochs=60,
                        steps_per_epoch=1, optim=ADAM3, task="first_token",
                        tiering=RankFractions((0.1, 0.2), unseen=2), dims=(192, 96, 16),
                        layout="hashed", proj_bias=False, compare="embedding"),),
    "quick": (RunConfig(name="quick", preset="quick", vocab=100, dim=64, window=32, batch=8,
                        corpus_size=1_000, zipf=1.0, train_frac=None, epochs=100,
                        steps_per_epoch=1, optim=ADAM3, task="random_target",
                        tiering=TopBottom(20, 20), dims=(80, 64, 48)),),
    "debug": (RunConfig(name="debug", preset="debug", vocab=50, dim=32, window=16, batch=4,
                        corpus_size=0, zipf=None, train_frac=None, epochs=20, steps_per_epoch=1,
                        optim=OptimConfig("adam", lr=0.01), task="mode_uniform",
                        tiering=ById(25), dims=(40, 24), compare="embedding"),),
    "btdt": tuple(_btdt(n, v) for n, v in ((1_000, 3), (5_000, 15), (20_000, 50))),
}


def get(name: str) -> tuple[RunConfig, ...]:
    if name not in PRESETS:
        raise ConfigError(f"unknown preset {name!r}; valid presets: {', '.join(PRESETS)}")
    return PRESETS[name]
