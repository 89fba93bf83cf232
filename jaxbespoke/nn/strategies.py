"""Embedding strategies sized to a parameter budget, all behind the interface of `embeddings`.

| strategy | tables | projection to the model width D | dims rule (scale s) |
|---|---|---|---|
| standard | V x d (d <= D; zero-padded to D when d < D) | none | d = s |
| factorised (ALBERT) | V x E (E < D) | Linear(E -> D) with bias | E = s |
| bespoke_replica | per tier a full V x d_t table (the original's layout) | biased Linear, identity when d_t = D | (h s, s, l s) |
| bespoke_compact | per tier a table of its own tokens | as bespoke_replica | (h s, s, l s) |
| adaptive (Baevski & Auli) | per band a table of its own tokens | bias-free Linear, identity when d_t = D | s / factor^t |
| mixed (Ginart et al.) | per block a table of its own tokens | bias-free Linear, identity when d_t = D | s (pbar_t / pbar_0)^alpha |

pbar_t is block t's mean per-token probability (its mass over its size), so more popular blocks get
more dimensions and alpha = 0 is uniform (DLRM's md_solver writes the same rule with block row
counts n_t^-alpha as the popularity proxy). The tiered strategies share one frequency banding
(`Bands`), and route through `BespokeEmbedding` (vectorised `jnp.where` routing, no per-token
Python); factorised is its one-tier case.

A budget counts the input embedding's parameters only; `size` finds integer dims whose exact
count lies within `tol` (2%) of it, or raises a ConfigError that names the closest count.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import jax.numpy as jnp
import numpy as np
from flax import nnx

from jaxbespoke.utils import guards
from jaxbespoke.nn import init as init_lib
from jaxbespoke.nn.embeddings import BespokeEmbedding, BespokeSpec, StandardEmbedding
from jaxbespoke.utils.errors import ConfigError, check_positive
from jaxbespoke.data.tiers import Tiers

STRATEGIES = ("standard", "factorised", "bespoke_replica", "bespoke_compact", "adaptive", "mixed")
TIERED = ("bespoke_replica", "bespoke_compact", "adaptive", "mixed")


@dataclass(frozen=True)
class Bands:
    """A frequency banding: tier per id, row within its tier, tier sizes and probability mass."""

    tier_V: np.ndarray
    rows_V: np.ndarray
    sizes: tuple[int, ...]
    mass: tuple[float, ...]
    names: tuple[str, ...]

    @staticmethod
    def from_tiers(t: Tiers) -> Bands:
        if (t.tier_V < 0).any():
            raise ConfigError("every id needs a tier for the embedding strategies "
                              f"({int((t.tier_V < 0).sum())} ids have none)")
        return Bands(t.tier_V.astype(np.int32), t.rows_V(), t.sizes, t.mass(), t.names)

    @property
    def popularity(self) -> np.ndarray:
        """Mean probability of one token of each tier."""
        return np.asarray(self.mass) / np.maximum(np.asarray(self.sizes), 1)


@dataclass(frozen=True)
class Options:
    high: float = 2.0          # bespoke multipliers: dims (high s, s, low s); the original: 2, 1/4
    low: float = 0.25
    factor: float = 4.0        # adaptive input's per-band divisor (fairseq default 4)
    alpha: float = 0.3         # mixed-dimension temperature


@dataclass(frozen=True)
class Plan:
    """One sized strategy: everything needed to build it and count its parameters."""

    strategy: str
    vocab_size: int
    dim: int
    dims: tuple[int, ...]
    sizes: tuple[int, ...] = ()     # tier sizes (the compact layouts' table rows)
    budget: int | None = None
    options: Options = field(default_factory=Options)

    @property
    def layout(self) -> str:
        return "replica" if self.strategy in ("bespoke_replica", "factorised") else "compact"

    @property
    def proj_bias(self) -> bool:
        return self.strategy in ("bespoke_replica", "bespoke_compact", "factorised")

    @property
    def params(self) -> int:
        """Closed-form parameter count (tests hold the built module to it)."""
        V, D = self.vocab_size, self.dim
        if self.strategy == "standard":
            return V * self.dims[0]
        rows = (V,) * len(self.dims) if self.layout == "replica" else self.sizes
        total = 0
        for r, d in zip(rows, self.dims):
            total += r * d + (0 if d == D else d * D + (D if self.proj_bias else 0))
        return total

    def build(self, bands: Bands | None, *, rngs: nnx.Rngs, init: str = "torch") -> nnx.Module:
        V, D = self.vocab_size, self.dim
        if self.strategy == "standard":
            d = self.dims[0]
            return (StandardEmbedding(V, D, rngs=rngs, init=init) if d == D
                    else PaddedEmbedding(V, d, D, rngs=rngs, init=init))
        spec = BespokeSpec(self.dims, proj_bias=self.proj_bias, identity_when_equal=True)
        if self.strategy == "factorised":
            return BespokeEmbedding(V, D, np.zeros(V, np.int32), spec, names=("all",),
                                    rngs=rngs, init=init)
        if bands is None:
            raise ConfigError(f"strategy {self.strategy!r} needs a frequency banding")
        if self.layout == "compact":
            return BespokeEmbedding(V, D, bands.tier_V, spec, names=bands.names, layout="compact",
                                    rows=bands.sizes, rows_V=bands.rows_V, rngs=rngs, init=init)
        return BespokeEmbedding(V, D, bands.tier_V, spec, names=bands.names, rngs=rngs, init=init)


class PaddedEmbedding(nnx.Module):
    """A narrow standard table (V x d, d < D) whose vectors are zero-padded to the model width:
    the standard embedding at a smaller budget, with no projection to learn."""

    def __init__(self, vocab_size: int, dim: int, out_dim: int, *, rngs: nnx.Rngs,
                 init: str = "torch"):
        check_positive("embed dim", dim)
        if dim > out_dim:
            raise ConfigError(f"padded embedding dim {dim} exceeds the model width {out_dim}")
        self.vocab_size, self.dim, self.out_dim = vocab_size, dim, out_dim
        self.table = init_lib.embed(vocab_size, dim, rngs=rngs, scheme=init)

    def __call__(self, ids_BT):
        e = guards.take_rows(self.table, ids_BT, self.vocab_size)
        return jnp.pad(e, [(0, 0)] * (e.ndim - 1) + [(0, self.out_dim - self.dim)])

    def lookup_all(self):
        return self(jnp.arange(self.vocab_size))

    def group_of(self, path) -> str:
        return "shared"

    def active_groups(self, ids_BT) -> dict:
        return {}


def dims_rule(strategy: str, bands: Bands | None, opts: Options):
    """scale -> real-valued dims (before rounding) of a strategy."""
    if strategy in ("standard", "factorised"):
        return lambda s: (s,)
    if bands is None:
        raise ConfigError(f"strategy {strategy!r} needs a frequency banding")
    n = len(bands.sizes)
    if strategy in ("bespoke_replica", "bespoke_compact"):
        if n != 3:
            raise ConfigError(f"bespoke multipliers need 3 tiers, got {n}")
        if not (opts.high > 0 and opts.low > 0):
            raise ConfigError(f"bespoke multipliers must be > 0, got high={opts.high}, "
                              f"low={opts.low}")
        return lambda s: (opts.high * s, s, opts.low * s)
    if strategy == "adaptive":
        if not opts.factor >= 1:
            raise ConfigError(f"adaptive factor must be >= 1, got {opts.factor}")
        return lambda s: tuple(s / opts.factor ** t for t in range(n))
    if strategy == "mixed":
        if not opts.alpha >= 0:
            raise ConfigError(f"mixed-dimension alpha must be >= 0, got {opts.alpha}")
        rel = (bands.popularity / bands.popularity[0]) ** opts.alpha
        return lambda s: tuple(s * r for r in rel)
    raise ConfigError(f"unknown strategy {strategy!r}; choose one of {', '.join(STRATEGIES)}")


def size(strategy: str, budget: int, vocab_size: int, dim: int, bands: Bands | None = None,
         options: Options = Options(), tol: float = 0.02) -> Plan:
    """The plan whose exact parameter count is closest to `budget` (within tol, else ConfigError).

    The candidates are the rounded dims of the rule over a fine grid of scales, and every +-1
    change of one dim of those near the budget (integer dims make a count step by a table's row
    count, so rounding alone can miss by more than 2%)."""
    check_positive("parameter budget", budget)
    rule = dims_rule(strategy, bands, options)
    sizes = tuple(bands.sizes) if bands is not None else ()

    def plan(dims) -> Plan:
        return Plan(strategy, vocab_size, dim, tuple(int(d) for d in dims), sizes, budget, options)

    def rounded(s):
        return tuple(max(1, int(round(d))) for d in rule(s))

    def ok(p: Plan) -> bool:
        # a factorised E >= D is no factorisation (E = D is the standard table with a projection)
        return {"standard": p.dims[0] <= dim, "factorised": p.dims[0] < dim}.get(strategy, True)

    smallest = plan((1,) * len(rule(1.0)))
    if smallest.params > budget * (1 + tol):
        raise ConfigError(f"budget {budget} is too small for {strategy}: even every dim = 1 "
                          f"needs {smallest.params} parameters")
    # counts are not monotone in the scale (a dim reaching D drops its projection), so scan a
    # fine geometric grid of scales instead of bisecting
    cands, s_ = set(), 1e-3
    while True:
        base = rounded(s_)
        if base not in cands:
            cands.add(base)
            if all(d > 1e6 for d in base) or plan(base).params > 2 * budget + 1:
                break
        s_ *= 1.002
        if s_ > 1e7:
            break
    near = [c for c in cands if abs(plan(c).params - budget) <= 0.1 * budget]
    for base in near:
        for i in range(len(base)):
            for step in (-1, 1):
                d = list(base)
                d[i] = max(1, d[i] + step)
                cands.add(tuple(d))
    plans = [p for p in map(plan, sorted(cands)) if ok(p)]
    if not plans:
        raise ConfigError(f"budget {budget} exceeds what {strategy} can hold at width {dim} "
                          f"(at most {vocab_size * dim})")
    best = min(plans, key=lambda p: (abs(p.params - budget), p.dims))
    if abs(best.params - budget) > tol * budget:
        raise ConfigError(f"{strategy} cannot reach the budget {budget} within {tol:.0%}: "
                          f"the closest is {best.params} with dims {best.dims}")
    return best
