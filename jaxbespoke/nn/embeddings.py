"""Token embeddings behind one interface: `__call__(ids_BT) -> emb_BTD`, `lookup_all() -> emb_VD`.

Bespoke routing is vectorised and jit-safe: every tier's path is evaluated and `jnp.where` keeps,
for each token, only its own tier's output (fairseq's adaptive input uses mask + scatter, which
has data-dependent shapes and cannot be jitted). Tokens of other tiers therefore send exactly zero
gradient into a tier's table rows and projection, as in the original's per-token routing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from jaxbespoke.utils import guards
from jaxbespoke.nn import init as init_lib
from jaxbespoke.utils.errors import ConfigError, check_positive

Layout = Literal["replica", "compact"]


class TierMap(nnx.Variable):
    """Per-token routing data: model state, not a trainable parameter."""


def _validate_if_concrete(ids, vocab_size: int) -> None:
    # Eager calls raise on a bad id; inside jit the lookups below return NaN rows (guards).
    guards.validate_ids(ids, vocab_size)


class StandardEmbedding(nnx.Module):
    """One V x D table (torch nn.Embedding init N(0,1) by default)."""

    def __init__(self, vocab_size: int, dim: int, *, rngs: nnx.Rngs, init: str = "torch"):
        check_positive("vocab_size", vocab_size)
        check_positive("embed dim", dim)
        self.vocab_size, self.dim = vocab_size, dim
        self.table = init_lib.embed(vocab_size, dim, rngs=rngs, scheme=init)

    def __call__(self, ids_BT: jax.Array) -> jax.Array:
        """(B, T) ids -> (B, T, D); an id outside [0, V): ConfigError eagerly, a NaN row in jit."""
        return guards.take_rows(self.table, ids_BT, self.vocab_size)

    def lookup_all(self) -> jax.Array:
        return self.table.embedding[...]

    def group_of(self, path) -> str:
        return "shared"

    def active_groups(self, ids_BT) -> dict:
        return {}


@dataclass(frozen=True)
class BespokeSpec:
    """Dims per tier (most frequent first) and how each tier reaches the model width.

    proj_bias: projections carry a bias (the 50-epoch model: yes).
    identity_when_equal: a tier whose dim equals the model width uses no projection (the original's
    nn.Identity for mid); if False it gets a Linear(D -> D) like the framework test's mid tier.
    """

    dims: tuple[int, ...]
    proj_bias: bool = True
    identity_when_equal: bool = True

    @staticmethod
    def focused(dim: int) -> BespokeSpec:
        """The 50-epoch experiment: 2D / D / D//4, biased projections, identity for mid."""
        return BespokeSpec((2 * dim, dim, dim // 4))


class TierPath(nnx.Module):
    """One tier's table and its projection to the model width (None = identity)."""

    def __init__(self, rows: int, dim: int, out_dim: int, *, bias: bool, identity: bool,
                 rngs: nnx.Rngs, init: str):
        self.table = init_lib.embed(rows, dim, rngs=rngs, scheme=init)
        self.proj = None if identity else init_lib.linear(dim, out_dim, bias=bias, rngs=rngs,
                                                          scheme=init)

    def project(self, emb_ND: jax.Array) -> jax.Array:
        return emb_ND if self.proj is None else self.proj(emb_ND)


class BespokeEmbedding(nnx.Module):
    """Frequency-tiered embedding: tier t embeds its tokens in dims[t] and projects to `dim`.

    layout='replica': every tier's table covers the full vocabulary (the original's layout and its
    exact parameter count; rows of other tiers are never used). layout='compact': each tier's table
    holds only its own tokens (adaptive-input style); `rows` gives each table's size, which must be
    at least the tier's size (pass larger capacities to vmap corpora with varying tier sizes).

    `rows` given with the replica layout is a per-tier capacity (an upper bound on tier sizes): it
    lets `lookup_all` project only each tier's own tokens instead of the whole vocabulary per tier.
    """

    def __init__(self, vocab_size: int, dim: int, tier_V, spec: BespokeSpec, *,
                 names: tuple[str, ...] | None = None, layout: Layout = "replica",
                 rows: tuple[int, ...] | None = None, rows_V=None,
                 rngs: nnx.Rngs, init: str = "torch"):
        check_positive("vocab_size", vocab_size)
        check_positive("embed dim", dim)
        for i, d in enumerate(spec.dims):
            check_positive(f"tier {i} dim", d)
        if layout not in ("replica", "compact"):
            raise ConfigError(f"unknown layout {layout!r}; expected 'replica' or 'compact'")
        n_tiers = len(spec.dims)
        names = names or (("high", "mid", "low") if n_tiers == 3 else
                          tuple(f"tier{i}" for i in range(n_tiers)))
        if len(names) != n_tiers:
            raise ConfigError(f"{len(names)} tier names for {n_tiers} tier dims")
        guards.validate_tier_map(tier_V, vocab_size, n_tiers)
        if layout == "compact" and (rows is None or rows_V is None):
            raise ConfigError("the compact layout needs `rows` (table sizes) and `rows_V`")
        if rows is not None and len(rows) != n_tiers:
            raise ConfigError(f"{len(rows)} tier sizes for {n_tiers} tier dims")
        if rows is not None and guards.is_concrete(tier_V):
            sizes = [int((np.asarray(tier_V) == t).sum()) for t in range(n_tiers)]
            for name, need, have in zip(names, sizes, rows):
                if need > have:
                    raise ConfigError(f"tier {name!r} has {need} tokens but its table {have} rows")
        self.vocab_size, self.dim, self.layout = vocab_size, dim, layout
        self.names, self.spec = names, spec
        self.tier_V = TierMap(jnp.asarray(tier_V, jnp.int32))
        self.capacity = tuple(rows) if rows is not None else None
        self.rows_V = TierMap(jnp.asarray(rows_V if layout == "compact" else
                                          np.zeros(vocab_size), jnp.int32))
        table_rows = (vocab_size,) * n_tiers if layout == "replica" else rows
        self.paths = nnx.List([
            TierPath(r, d, dim, bias=spec.proj_bias,
                     identity=spec.identity_when_equal and d == dim, rngs=rngs, init=init)
            for r, d in zip(table_rows, spec.dims)])

    def __call__(self, ids_BT: jax.Array) -> jax.Array:
        """(B, T) ids -> (B, T, D). Tier -1 embeds as zeros; an id outside [0, V) or a tier map
        entry outside [-1, n_tiers) gives ConfigError eagerly and a NaN row under jit."""
        _validate_if_concrete(ids_BT, self.vocab_size)
        tier_BT = jnp.where(guards.valid_ids(ids_BT, self.vocab_size), self.tier_V[...][ids_BT], -2)
        rows_BT = ids_BT if self.layout == "replica" else self.rows_V[...][ids_BT]
        out_BTD = _zeros_or_nan(ids_BT, tier_BT, self.vocab_size, len(self.paths), self.dim,
                                self.paths[0].table.embedding.dtype)
        for t, path in enumerate(self.paths):
            mine_BT = tier_BT == t
            emb = path.project(path.table(jnp.where(mine_BT, rows_BT, 0)))
            out_BTD = jnp.where(mine_BT[..., None], emb, out_BTD)
        return out_BTD

    def lookup_all(self) -> jax.Array:
        """(V, D): every id's embedding. With capacities, each tier projects only its own ids
        (found with a fixed-size nonzero, padded with the out-of-range id V and dropped on scatter),
        so the cost is sum_t cap_t * d_t * D instead of V * sum_t d_t * D."""
        V = self.vocab_size
        if self.capacity is None:
            return self(jnp.arange(V))
        # NaN until its tier's scatter writes it (an id beyond a tier's capacity stays NaN);
        # tier -1 = no tier: zeros. The dtype follows the tables (float64 checks).
        no_tier_V = self.tier_V[...] == -1
        out_VD = jnp.broadcast_to(
            jnp.where(no_tier_V, 0.0, jnp.nan).astype(self.paths[0].table.embedding.dtype)[:, None],
            (V, self.dim))
        for t, path in enumerate(self.paths):
            ids = jnp.nonzero(self.tier_V[...] == t, size=self.capacity[t], fill_value=V)[0]
            # compact rows are ranks within sorted tier ids, i.e. exactly nonzero's order
            rows = ids if self.layout == "replica" else jnp.arange(self.capacity[t])
            emb = path.project(path.table(jnp.minimum(rows, path.table.num_embeddings - 1)))
            out_VD = out_VD.at[ids].set(emb, mode="drop")
        return out_VD

    def window_mean(self, ids_BT: jax.Array) -> jax.Array:
        """(B, D): the mean over each window (axis -1 of ids) of its tokens' embeddings.

        A projection is affine, so the mean of projected rows equals the projection of the sum of
        the tier's raw rows, plus count x bias, over T: B x d_t x D MACs per tier instead of
        projecting every token. When the batch is wider than the (V, D) table of `lookup_all`
        costs (long evaluation batches), that table is gathered instead; both are the same
        function up to float rounding, and the choice is static (shapes only)."""
        B, T = ids_BT.shape
        proj_dims = [d for d, p in zip(self.spec.dims, self.paths) if p.proj is not None]
        rows = self.capacity or (self.vocab_size,) * len(self.paths)
        table_macs = sum(r * d * self.dim for r, d, p in zip(rows, self.spec.dims, self.paths)
                         if p.proj is not None) + B * T * self.dim
        per_tier_macs = B * sum(proj_dims) * self.dim + B * T * sum(self.spec.dims)
        if table_macs <= per_tier_macs:
            return self.lookup_all()[ids_BT].mean(axis=1)
        _validate_if_concrete(ids_BT, self.vocab_size)
        tier_BT = self.tier_V[...][ids_BT]
        rows_BT = ids_BT if self.layout == "replica" else self.rows_V[...][ids_BT]
        out_BD = jnp.zeros((B, self.dim), self.paths[0].table.embedding.dtype)
        for t, path in enumerate(self.paths):
            mine_BT = tier_BT == t
            emb_BTd = path.table(jnp.where(mine_BT, rows_BT, 0))
            sum_Bd = jnp.where(mine_BT[..., None], emb_BTd, 0.0).sum(axis=1)
            if path.proj is None:
                out_BD = out_BD + sum_Bd
                continue
            out_BD = out_BD + sum_Bd @ path.proj.kernel[...]
            if path.proj.bias is not None:
                count_B1 = mine_BT.sum(axis=1, keepdims=True).astype(out_BD.dtype)
                out_BD = out_BD + count_B1 * path.proj.bias[...]
        return out_BD / T

    def group_of(self, path) -> str:
        """Parameter group of a parameter path below this module: its tier's name or 'shared'."""
        return self.names[path[1]] if len(path) > 1 and path[0] == "paths" else "shared"

    def active_groups(self, ids_BT) -> dict:
        """Which tiers occur in a batch: torch gives absent tiers' parameters no gradient at all."""
        tier_BT = self.tier_V[...][ids_BT]
        return {name: jnp.any(tier_BT == t) for t, name in enumerate(self.names)}


def _zeros_or_nan(ids, tier, vocab_size: int, n_tiers: int, dim: int, dtype):
    """The routing's starting value (..., D): zeros (tier -1 = no tier keeps them) or NaN where
    the id is outside [0, V) (its tier was set to -2) or its tier outside [-1, n_tiers): no
    tier's path overwrites those."""
    ok = (tier >= -1) & (tier < n_tiers)
    guards._check(ok, f"token ids must lie in [0, {vocab_size}) and their tiers in "
                      f"[-1, {n_tiers})")
    return jnp.broadcast_to(jnp.where(ok, 0.0, jnp.nan).astype(dtype)[..., None],
                            ids.shape + (dim,))


def param_count(module: nnx.Module) -> int:
    return int(sum(x.size for x in jax.tree.leaves(nnx.state(module, nnx.Param))))


def bespoke_param_formula(vocab_size: int, dim: int, spec: BespokeSpec, layout: Layout = "replica",
                          rows: tuple[int, ...] | None = None) -> int:
    """Closed-form parameter count of a BespokeEmbedding (tests check the module against it)."""
    rows = (vocab_size,) * len(spec.dims) if layout == "replica" else rows
    total = 0
    for r, d in zip(rows, spec.dims):
        total += r * d
        if not (spec.identity_when_equal and d == dim):
            total += d * dim + (dim if spec.proj_bias else 0)
    return total


class HashedSharedEmbedding(nnx.Module):
    """ultra_efficient's embedding: compact tables for the first tiers, `n_buckets` shared vectors
    for the last tier (token id % n_buckets, Python's hash of an int, so rare tokens collide by
    residue class), every vector zero-padded to the widest dim and sent through ONE shared
    bias-free Linear(max dim -> D). Zero-padding then a shared Linear equals using the first d rows
    of its kernel, which is how it is computed here."""

    def __init__(self, vocab_size: int, dim: int, tier_V, rows_V, dims: tuple[int, ...],
                 rows: tuple[int, ...], n_buckets: int = 8, *, rngs: nnx.Rngs,
                 names: tuple[str, ...] = ("high", "mid", "low"), init: str = "torch"):
        check_positive("vocab_size", vocab_size)
        check_positive("hash buckets", n_buckets)
        if len(dims) != len(rows) + 1 or len(names) != len(dims):
            raise ConfigError(f"need one table size per non-hashed tier: dims={dims}, rows={rows}")
        self.vocab_size, self.dim, self.names, self.n_buckets = vocab_size, dim, names, n_buckets
        self.tier_V = TierMap(jnp.asarray(tier_V, jnp.int32))
        self.rows_V = TierMap(jnp.asarray(rows_V, jnp.int32))
        self.width = max(dims)
        self.tables = nnx.List([init_lib.embed(r, d, rngs=rngs, scheme=init)
                                for r, d in zip(tuple(rows) + (n_buckets,), dims)])
        self.proj = init_lib.linear(self.width, dim, bias=False, rngs=rngs, scheme=init)

    def __call__(self, ids_BT):
        _validate_if_concrete(ids_BT, self.vocab_size)
        tier_BT = jnp.where(guards.valid_ids(ids_BT, self.vocab_size), self.tier_V[...][ids_BT], -2)
        last = len(self.tables) - 1
        out = _zeros_or_nan(ids_BT, tier_BT, self.vocab_size, len(self.tables), self.dim,
                            jnp.float32)
        kernel = self.proj.kernel[...]
        for t, table in enumerate(self.tables):
            mine = tier_BT == t
            rows = ids_BT % self.n_buckets if t == last else self.rows_V[...][ids_BT]
            e = table(jnp.where(mine, rows, 0))
            out = jnp.where(mine[..., None], e @ kernel[: e.shape[-1]], out)
        return out

    def lookup_all(self):
        return self(jnp.arange(self.vocab_size))

    def group_of(self, path) -> str:
        return self.names[path[1]] if len(path) > 1 and path[0] == "tables" else "shared"

    def active_groups(self, ids_BT) -> dict:
        tier_BT = self.tier_V[...][ids_BT]
        return {name: jnp.any(tier_BT == t) for t, name in enumerate(self.names)}
