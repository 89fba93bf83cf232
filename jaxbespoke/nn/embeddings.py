"""Token embeddings behind one interface: `__call__(ids_BT) -> emb_BTD`, `lookup_all() -> emb_VD`,
`attend(x_BTD) -> logits_BTV` (a tied output layer).

They follow `nnx.Embed`'s conventions: `dtype` (computation) / `param_dtype` (parameters),
initializer functions (`embedding_init`, and for projections `kernel_init` / `bias_init`), with
`init` naming the torch-matching defaults ('torch': nn.Embedding / nn.Linear; 'normal02').

Bespoke routing is vectorised and jit-safe: every tier's path is evaluated and `jnp.where` keeps,
for each token, only its own tier's output (fairseq's adaptive input uses mask + scatter, which
has data-dependent shapes and cannot be jitted). Tokens of other tiers therefore send exactly zero
gradient into a tier's table rows and projection, as in the original's per-token routing.

Out-of-range ids are never another token's row: eagerly a ConfigError, under jit a NaN row
(`jaxbespoke.utils.guards`; `guards.checked` raises under jit too).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Literal, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from jaxbespoke.data import tiers as tiers_lib
from jaxbespoke.nn import init as init_lib
from jaxbespoke.nn.init import Dtype, Initializer, Scheme
from jaxbespoke.utils import guards
from jaxbespoke.utils.errors import ConfigError, check_positive

Layout = Literal["replica", "compact"]


class TierMap(nnx.Variable):
    """Per-token routing data: model state, not a trainable parameter."""


def _validate_if_concrete(ids, vocab_size: int) -> None:
    # Eager calls raise on a bad id; inside jit the lookups below return NaN rows (guards).
    guards.validate_ids(ids, vocab_size)


def tier_keys(names: Sequence[str]) -> tuple[str, ...]:
    """Parameter names of the tiers, e.g. ('0_high', '1_mid', '2_low'): the tier's name, led by
    its (zero-padded) index so that NNX's sorted flattening keeps tier order. Leaf order is what
    a global-norm gradient clip sums in, so it must not change with the names."""
    width = len(str(max(len(names) - 1, 0)))
    for name in names:
        if not name or "." in name or "/" in name:
            raise ConfigError(f"tier name {name!r} must be non-empty without '.' or '/'")
    return tuple(f"{t:0{width}d}_{name}" for t, name in enumerate(names))


class StandardEmbedding(nnx.Module):
    """One V x D table (`self.table`, an nnx.Embed; torch nn.Embedding init N(0,1) by default).

    vocab_size: V; dim: D; init: the named defaults ('torch' or 'normal02'); embedding_init: an
    initializer function that replaces them; dtype / param_dtype: as nnx.Embed."""

    def __init__(self, vocab_size: int, dim: int, *, rngs: nnx.Rngs, init: Scheme = "torch",
                 embedding_init: Initializer | None = None, dtype: Dtype = None,
                 param_dtype: Dtype = jnp.float32):
        check_positive("vocab_size", vocab_size)
        check_positive("embed dim", dim)
        self.vocab_size, self.dim = vocab_size, dim
        self.table = init_lib.embed(vocab_size, dim, rngs=rngs, scheme=init,
                                    embedding_init=embedding_init, dtype=dtype,
                                    param_dtype=param_dtype)

    def __call__(self, ids_BT: jax.Array) -> jax.Array:
        """(B, T) ids -> (B, T, D); an id outside [0, V): ConfigError eagerly, a NaN row in jit."""
        return guards.take_rows(self.table, ids_BT, self.vocab_size)

    def lookup_all(self) -> jax.Array:
        """(V, D): the table (in param_dtype)."""
        return self.table.embedding[...]

    def attend(self, x_BTD: jax.Array) -> jax.Array:
        """(..., D) -> (..., V) logits x @ table^T: the output layer tied to this embedding."""
        return self.table.attend(x_BTD)

    def group_of(self, path: Sequence) -> str:
        return "shared"

    def active_groups(self, ids_BT: jax.Array) -> dict[str, jax.Array]:
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
                 rngs: nnx.Rngs, init: Scheme, embedding_init: Initializer | None = None,
                 kernel_init: Initializer | None = None, bias_init: Initializer | None = None,
                 dtype: Dtype = None, param_dtype: Dtype = jnp.float32):
        self.table = init_lib.embed(rows, dim, rngs=rngs, scheme=init,
                                    embedding_init=embedding_init, dtype=dtype,
                                    param_dtype=param_dtype)
        self.proj = None if identity else init_lib.linear(
            dim, out_dim, bias=bias, rngs=rngs, scheme=init, kernel_init=kernel_init,
            bias_init=bias_init, dtype=dtype, param_dtype=param_dtype)

    def project(self, emb_ND: jax.Array) -> jax.Array:
        return emb_ND if self.proj is None else self.proj(emb_ND)


class BespokeEmbedding(nnx.Module):
    """Frequency-tiered embedding: tier t embeds its tokens in dims[t] and projects to `dim`.

    vocab_size: V; dim: the model width D; tier_V: (V,) tier per id, 0 = most frequent tier, -1 =
    no tier (embeds as zeros), of any array type (validated: shape, whole numbers in [-1, n_tiers));
    spec: the tiers' dims and projections; names: the tiers' names (default high/mid/low for three
    tiers, else tier0, tier1, ...), which name their parameters: tier t lives at
    `tiers/<t>_<name>/table/embedding` and `tiers/<t>_<name>/proj/{kernel,bias}` (see `tier_keys`;
    `tier(name)` returns that tier's module). init / embedding_init / kernel_init / bias_init:
    the named torch-matching defaults or initializer functions that replace them (projections
    use kernel_init and bias_init); dtype / param_dtype: as nnx.Embed and nnx.Linear.

    layout='replica': every tier's table covers the full vocabulary (the original's layout and its
    exact parameter count; rows of other tiers are never used). layout='compact': each tier's table
    holds only its own tokens (adaptive-input style); `rows` gives each table's size, which must be
    at least the tier's size (pass larger capacities to vmap corpora with varying tier sizes), and
    `rows_V` each id's row in its tier's table.

    `rows` given with the replica layout is a per-tier capacity (an upper bound on tier sizes): it
    lets `lookup_all` project only each tier's own tokens instead of the whole vocabulary per tier.

    Compared with fairseq's AdaptiveInput (Baevski & Auli), which it generalises:
    * tiers come from a tier map, any id -> tier assignment (e.g. by counts in the training corpus,
      `jaxbespoke.data.tiers`), instead of contiguous id bands, which require a vocabulary sorted
      by frequency. The bands are one tier map: `from_cutoffs` builds them from fairseq-style
      cutoffs;
    * routing evaluates every tier on every token and keeps each token's own with `jnp.where`
      (static shapes, jit-safe) instead of masking and scattering;
    * a tier whose dim equals D uses no projection when `spec.identity_when_equal` (the
      original's nn.Identity), and projections carry a bias when `spec.proj_bias`; AdaptiveInput
      projects every band with a bias-free Linear;
    * tables start from torch's N(0, 1) by default (AdaptiveInput: N(0, dim^-1/2)) and have no
      padding row;
    * ids outside [0, V) are errors (eagerly) or NaN rows (under jit), and tier -1 embeds as zeros.
    """

    def __init__(self, vocab_size: int, dim: int, tier_V: Any, spec: BespokeSpec, *,
                 names: tuple[str, ...] | None = None, layout: Layout = "replica",
                 rows: tuple[int, ...] | None = None, rows_V: Any = None,
                 rngs: nnx.Rngs, init: Scheme = "torch",
                 embedding_init: Initializer | None = None,
                 kernel_init: Initializer | None = None, bias_init: Initializer | None = None,
                 dtype: Dtype = None, param_dtype: Dtype = jnp.float32):
        check_positive("vocab_size", vocab_size)
        check_positive("embed dim", dim)
        for i, d in enumerate(spec.dims):
            check_positive(f"tier {i} dim", d)
        if layout not in ("replica", "compact"):
            raise ConfigError(f"unknown layout {layout!r}; expected 'replica' or 'compact'")
        n_tiers = len(spec.dims)
        names = tuple(names or (tiers_lib.NAMES3 if n_tiers == 3 else
                                tuple(f"tier{i}" for i in range(n_tiers))))
        if len(names) != n_tiers:
            raise ConfigError(f"{len(names)} tier names for {n_tiers} tier dims")
        if len(set(names)) != n_tiers:
            raise ConfigError(f"tier names must differ, got {names}")
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
        self.names, self.spec, self.dtype = names, spec, dtype
        self.tier_keys = tier_keys(names)
        self.tier_V = TierMap(jnp.asarray(tier_V, jnp.int32))
        self.capacity = tuple(rows) if rows is not None else None
        self.rows_V = TierMap(jnp.asarray(rows_V if layout == "compact" else
                                          np.zeros(vocab_size), jnp.int32))
        table_rows = (vocab_size,) * n_tiers if layout == "replica" else rows
        # built in tier order (the order the parameters draw from rngs)
        self.tiers = nnx.Dict({
            key: TierPath(r, d, dim, bias=spec.proj_bias,
                          identity=spec.identity_when_equal and d == dim, rngs=rngs, init=init,
                          embedding_init=embedding_init, kernel_init=kernel_init,
                          bias_init=bias_init, dtype=dtype, param_dtype=param_dtype)
            for key, r, d in zip(self.tier_keys, table_rows, spec.dims)})

    @classmethod
    def from_cutoffs(cls, vocab_size: int, dim: int, cutoffs: Sequence[int], spec: BespokeSpec,
                     *, rngs: nnx.Rngs, names: tuple[str, ...] | None = None,
                     **kwargs: Any) -> BespokeEmbedding:
        """fairseq AdaptiveInput's banding: ids [0, c0) form tier 0, [c0, c1) tier 1, ...,
        [c_last, V) the last tier (a last cutoff equal to V adds no band), in the compact layout
        (each band's own table). Assumes ids sorted by frequency, most frequent first. spec.dims
        has one dim per band; other keywords as the constructor."""
        tier_V = tiers_lib.cutoff_bands(vocab_size, cutoffs)
        n = int(tier_V.max()) + 1
        if len(spec.dims) != n:
            raise ConfigError(f"cutoffs {tuple(cutoffs)} make {n} bands but spec has "
                              f"{len(spec.dims)} dims")
        sizes = tuple(int((tier_V == t).sum()) for t in range(n))
        return cls(vocab_size, dim, tier_V, spec, names=names, layout="compact", rows=sizes,
                   rows_V=tiers_lib.compact_rows(tier_V, n), rngs=rngs, **kwargs)

    def tier(self, name_or_index: str | int) -> TierPath:
        """The module (table + projection) of the tier with this name or index."""
        if isinstance(name_or_index, str):
            if name_or_index not in self.names:
                raise ConfigError(f"no tier named {name_or_index!r}; tiers: {self.names}")
            name_or_index = self.names.index(name_or_index)
        return self.tiers[self.tier_keys[name_or_index]]

    def compact_copy(self, rows_V: Any) -> BespokeEmbedding:
        """The same function in the compact layout: tier t's table holds only the rows of its
        own ids (row rows_V[id] = this table's row `id`), projections shared with this module.

        A replica table's rows of other tiers are never read, so their gradient is exactly zero
        and an optimiser that leaves zero-gradient parameters alone (Adam, no weight decay)
        never changes them: training this copy gives the same numbers as training the replica
        with a fraction of the optimiser's work. Needs per-tier capacities (`rows`); rows_V: (V,)
        each id's rank among the sorted ids of its tier (tiers.compact_rows)."""
        if self.capacity is None:
            raise ConfigError("a compact copy needs per-tier capacities (`rows`)")
        if self.layout == "compact":
            return self
        twin = BespokeEmbedding(
            self.vocab_size, self.dim, self.tier_V[...], self.spec, names=self.names, layout="compact",
            rows=self.capacity, rows_V=rows_V, rngs=nnx.Rngs(0), dtype=self.dtype,
            param_dtype=self._paths()[0].table.embedding.dtype)
        for t, (mine, path) in enumerate(zip(twin._paths(), self._paths())):
            # a tier below its capacity fills the spare rows with row 0: never read either
            ids = jnp.nonzero(self.tier_V[...] == t, size=self.capacity[t], fill_value=0)[0]
            mine.table.embedding[...] = path.table.embedding[...][ids]
            mine.proj = path.proj
        return twin

    def _paths(self) -> list[TierPath]:
        return [self.tiers[k] for k in self.tier_keys]

    def _out_dtype(self):
        # the tables' dtype unless a computation dtype is set (float64 checks load float64 tables)
        return self.dtype if self.dtype is not None else \
            self.tiers[self.tier_keys[0]].table.embedding.dtype

    def __call__(self, ids_BT: jax.Array) -> jax.Array:
        """(B, T) ids -> (B, T, D). Tier -1 embeds as zeros; an id outside [0, V) or a tier map
        entry outside [-1, n_tiers) gives ConfigError eagerly and a NaN row under jit."""
        _validate_if_concrete(ids_BT, self.vocab_size)
        tier_BT = jnp.where(guards.valid_ids(ids_BT, self.vocab_size), self.tier_V[...][ids_BT], -2)
        rows_BT = ids_BT if self.layout == "replica" else self.rows_V[...][ids_BT]
        paths = self._paths()
        out_BTD = _zeros_or_nan(ids_BT, tier_BT, self.vocab_size, len(paths), self.dim,
                                self._out_dtype())
        for t, path in enumerate(paths):
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
            jnp.where(no_tier_V, 0.0, jnp.nan).astype(self._out_dtype())[:, None], (V, self.dim))
        for t, path in enumerate(self._paths()):
            ids = jnp.nonzero(self.tier_V[...] == t, size=self.capacity[t], fill_value=V)[0]
            # compact rows are ranks within sorted tier ids, i.e. exactly nonzero's order
            rows = ids if self.layout == "replica" else jnp.arange(self.capacity[t])
            emb = path.project(path.table(jnp.minimum(rows, path.table.num_embeddings - 1)))
            out_VD = out_VD.at[ids].set(emb, mode="drop")
        return out_VD

    def attend(self, x_BTD: jax.Array) -> jax.Array:
        """(..., D) -> (..., V) logits x @ E^T with E = lookup_all(), every id's embedding at the
        model width (projection included): the output layer tied to this embedding. Ids in no
        tier get logit 0. Costs the (V, D) table once plus one (..., D) x (D, V) product."""
        return jnp.einsum("...d,vd->...v", x_BTD, self.lookup_all())

    def window_mean(self, ids_BT: jax.Array) -> jax.Array:
        """(B, D): the mean over each window (axis -1 of ids) of its tokens' embeddings.

        A projection is affine, so the mean of projected rows equals the projection of the sum of
        the tier's raw rows, plus count x bias, over T: B x d_t x D MACs per tier instead of
        projecting every token. When the batch is wider than the (V, D) table of `lookup_all`
        costs (long evaluation batches), that table is gathered instead; both are the same
        function up to float rounding, and the choice is static (shapes only). A window holding
        an id outside [0, V) is a ConfigError eagerly and a NaN row under jit."""
        B, T = ids_BT.shape
        _validate_if_concrete(ids_BT, self.vocab_size)
        ok_B1 = guards.valid_ids(ids_BT, self.vocab_size).all(axis=-1, keepdims=True)
        paths = self._paths()
        proj_dims = [d for d, p in zip(self.spec.dims, paths) if p.proj is not None]
        rows = self.capacity or (self.vocab_size,) * len(paths)
        table_macs = sum(r * d * self.dim for r, d, p in zip(rows, self.spec.dims, paths)
                         if p.proj is not None) + B * T * self.dim
        per_tier_macs = B * sum(proj_dims) * self.dim + B * T * sum(self.spec.dims)
        if table_macs <= per_tier_macs:
            return jnp.where(ok_B1, mean_of_rows(self.lookup_all(), ids_BT, False), jnp.nan)
        tier_BT = self.tier_V[...][ids_BT]
        rows_BT = ids_BT if self.layout == "replica" else self.rows_V[...][ids_BT]
        out_BD = jnp.zeros((B, self.dim), self._out_dtype())
        for t, path in enumerate(paths):
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
        return jnp.where(ok_B1, out_BD / T, jnp.nan)

    def group_of(self, path: Sequence) -> str:
        """Parameter group of a parameter path below this module: its tier's name or 'shared'."""
        if len(path) > 1 and path[0] == "tiers" and path[1] in self.tier_keys:
            return self.names[self.tier_keys.index(path[1])]
        return "shared"

    def active_groups(self, ids_BT: jax.Array) -> dict[str, jax.Array]:
        """Which tiers occur in a batch: torch gives absent tiers' parameters no gradient at all."""
        tier_BT = self.tier_V[...][ids_BT]
        return {name: jnp.any(tier_BT == t) for t, name in enumerate(self.names)}


def mean_of_rows(table_VD: jax.Array, ids_BT: jax.Array, fill: bool = True) -> jax.Array:
    """(B, D): the mean over each window of its rows, table[ids].mean(axis=1).

    A batch of more windows than the table has rows (an evaluation over every window) sums one
    window position at a time instead: the T gathers fuse into the running sum, with no (B, T, D)
    intermediate, which made such pooling ~20x slower. The two differ by float rounding only
    (the reduction's order is XLA's), and the gradient is always table[ids].mean(axis=1)'s, so a
    training batch of up to V windows gives the same numbers as ever. fill: an out-of-range id
    gives a NaN row (jnp.take's fill mode); else indexing's clamping."""
    if ids_BT.shape[0] <= table_VD.shape[0]:
        return _gather_mean(table_VD, ids_BT, fill)
    return _mean_by_position(table_VD, ids_BT, fill)


def _gather_mean(table_VD, ids_BT, fill: bool):
    rows_BTD = jnp.take(table_VD, ids_BT, axis=0) if fill else table_VD[ids_BT]
    return rows_BTD.mean(axis=1)


@functools.partial(jax.custom_vjp, nondiff_argnums=(2,))
def _mean_by_position(table_VD, ids_BT, fill: bool):
    take = (lambda i: jnp.take(table_VD, i, axis=0)) if fill else (lambda i: table_VD[i])
    sum_BD = take(ids_BT[:, 0])
    for t in range(1, ids_BT.shape[1]):  # T static: unrolled into one fused loop over (B, D)
        sum_BD = sum_BD + take(ids_BT[:, t])
    return sum_BD / ids_BT.shape[1]


def _mean_by_position_fwd(table_VD, ids_BT, fill):
    return _mean_by_position(table_VD, ids_BT, fill), (table_VD, ids_BT)


def _mean_by_position_bwd(fill, res, g_BD):
    table_VD, ids_BT = res
    _, vjp = jax.vjp(lambda t: _gather_mean(t, ids_BT, fill), table_VD)
    return vjp(g_BD)[0], None


_mean_by_position.defvjp(_mean_by_position_fwd, _mean_by_position_bwd)


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
    """Number of trainable parameters (nnx.Param entries) of a module."""
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
    of its kernel, which is how it is computed here. Tier t's table lives at
    `tiers/<t>_<name>/embedding` (see `tier_keys`), the shared projection at `proj/kernel`."""

    def __init__(self, vocab_size: int, dim: int, tier_V: Any, rows_V: Any,
                 dims: tuple[int, ...], rows: tuple[int, ...], n_buckets: int = 8, *,
                 rngs: nnx.Rngs, names: tuple[str, ...] = tiers_lib.NAMES3,
                 init: Scheme = "torch", embedding_init: Initializer | None = None,
                 kernel_init: Initializer | None = None, dtype: Dtype = None,
                 param_dtype: Dtype = jnp.float32):
        check_positive("vocab_size", vocab_size)
        check_positive("hash buckets", n_buckets)
        if len(dims) != len(rows) + 1 or len(names) != len(dims):
            raise ConfigError(f"need one table size per non-hashed tier: dims={dims}, rows={rows}")
        self.vocab_size, self.dim, self.names, self.n_buckets = vocab_size, dim, names, n_buckets
        self.tier_keys = tier_keys(names)
        self.tier_V = TierMap(jnp.asarray(tier_V, jnp.int32))
        self.rows_V = TierMap(jnp.asarray(rows_V, jnp.int32))
        self.width = max(dims)
        self.tiers = nnx.Dict({
            key: init_lib.embed(r, d, rngs=rngs, scheme=init, embedding_init=embedding_init,
                                dtype=dtype, param_dtype=param_dtype)
            for key, r, d in zip(self.tier_keys, tuple(rows) + (n_buckets,), dims)})
        self.proj = init_lib.linear(self.width, dim, bias=False, rngs=rngs, scheme=init,
                                    kernel_init=kernel_init, dtype=dtype, param_dtype=param_dtype)

    def __call__(self, ids_BT: jax.Array) -> jax.Array:
        """(B, T) ids -> (B, T, D); out-of-range ids as in BespokeEmbedding."""
        _validate_if_concrete(ids_BT, self.vocab_size)
        tier_BT = jnp.where(guards.valid_ids(ids_BT, self.vocab_size), self.tier_V[...][ids_BT], -2)
        tables = [self.tiers[k] for k in self.tier_keys]
        last = len(tables) - 1
        out = _zeros_or_nan(ids_BT, tier_BT, self.vocab_size, len(tables), self.dim,
                            jnp.float32)
        kernel = self.proj.kernel[...]
        for t, table in enumerate(tables):
            mine = tier_BT == t
            rows = ids_BT % self.n_buckets if t == last else self.rows_V[...][ids_BT]
            e = table(jnp.where(mine, rows, 0))
            out = jnp.where(mine[..., None], e @ kernel[: e.shape[-1]], out)
        return out

    def lookup_all(self) -> jax.Array:
        """(V, D): every id's embedding."""
        return self(jnp.arange(self.vocab_size))

    def attend(self, x_BTD: jax.Array) -> jax.Array:
        """(..., D) -> (..., V) logits against every id's embedding (a tied output layer)."""
        return jnp.einsum("...d,vd->...v", x_BTD, self.lookup_all())

    # parameter groups as BespokeEmbedding's: one per tier under tiers/<t>_<name>
    group_of = BespokeEmbedding.group_of
    active_groups = BespokeEmbedding.active_groups
