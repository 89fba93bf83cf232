"""Top-k sparse MLP attention: key selector, head approximator, the hybrid head, and
`TopKSparseAttention`, a causal self-attention layer with some heads replaced by them.

A replaced head works as: selector(q_t) -> logits over the T key positions -> top-k positions ->
the value vectors there, concatenated in top-k order -> approximator -> the head's output at t.
The selector and the approximator are small MLPs trained by distillation from the exact head
(`selector_distillation_loss`, `approximator_distillation_loss`): the selector learns the exact
head's top-1 key, the approximator its output.

Two modes:
- 'faithful': the behaviour of the original PyTorch experiment that this library replicates.
  The selector sees no causal mask (training or inference), and the approximator is trained on
  [V_t] * k, the query's own value repeated (the original's indexing bug), while the hybrid
  gathers the values at the selector's keys at inference. The output at t can therefore depend
  on tokens after t.
- 'fixed': future keys are masked before every top-k; the approximator is trained on the values
  at the teacher's top-k keys; a slot that can only hold a future key (t < k - 1) gets a zero
  vector. The output at t depends only on tokens up to t. Keys are ordered by score, ties to the
  lower index (`lax.top_k`).

Gradients: top-k returns integer positions, so nothing flows back through the choice of keys. In
the hybrid the selector (and the replaced head's query and key projections) receive exactly zero
gradient; the approximator and the value projection do receive gradient. That is why the selector
is trained by distillation, not through the model's loss.

Head functions. `sparse_layer`, `GPT(..., head_fns=...)` and the pipeline's baselines replace a
head's output through one hook: `fn(q_BTd, k_BTd, v_BTd, y_BTd) -> y_BTd`, called per replaced
head with that head's queries, keys, values (B, T, d) and its exact output y (or None where the
caller never computes it, as in `sparse_layer`). It must return the head's output (B, T, d).

Shape letters: B batch, T query positions, S key positions (S = T), k top-k slots, d head size,
D model width, H heads, N collected sequences.
Gathers are `take_along_axis` over (B, T*k) indices: nothing of size (B, T, T, d) is built.
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp
from flax import nnx

from jaxbespoke.nn import init as init_lib
from jaxbespoke.nn.gpt import GPT, CausalSelfAttention, GPTConfig, HeadFn, causal_scores
from jaxbespoke.utils.errors import ConfigError

MODES = ("faithful", "fixed")


def check_mode(mode: str) -> None:
    if mode not in MODES:
        raise ConfigError(f"unknown mode {mode!r}; expected one of {', '.join(MODES)}")


def check_top_k(top_k: int, n_keys: int) -> None:
    if not 1 <= top_k <= n_keys:
        raise ConfigError(f"top-k {top_k} must lie in 1..{n_keys} (the number of keys)")


class KeySelector(nnx.Module):
    """Linear(d -> hidden) -> ReLU -> Linear(hidden -> n_keys): a query's logits over positions,
    q (..., T, d) -> logits (..., T, n_keys). It sees only the query (not the keys), so it is
    tied to one sequence length (n_keys)."""

    def __init__(self, head_size: int = 64, n_keys: int = 64, hidden: int = 64, *,
                 rngs: nnx.Rngs, init: str = "torch"):
        self.n_keys = n_keys
        self.fc = init_lib.linear(head_size, hidden, rngs=rngs, scheme=init)
        self.out = init_lib.linear(hidden, n_keys, rngs=rngs, scheme=init)

    def __call__(self, q_Td: jax.Array) -> jax.Array:
        return self.out(jax.nn.relu(self.fc(q_Td)))


class HeadApproximator(nnx.Module):
    """Linear(k*d -> hidden) -> ReLU -> Linear(hidden -> d) on the k value vectors in top-k order:
    v (..., T, k, d) -> the head's output (..., T, d)."""

    def __init__(self, head_size: int = 64, top_k: int = 3, hidden: int = 64, *,
                 rngs: nnx.Rngs, init: str = "torch"):
        self.top_k = top_k
        self.fc = init_lib.linear(top_k * head_size, hidden, rngs=rngs, scheme=init)
        self.out = init_lib.linear(hidden, head_size, rngs=rngs, scheme=init)

    def __call__(self, v_Tkd: jax.Array) -> jax.Array:
        return self.out(jax.nn.relu(self.fc(v_Tkd.reshape(*v_Tkd.shape[:-2], -1))))

    def repeated(self, v_Td: jax.Array) -> jax.Array:
        """The approximator on [v_t] * k (k copies of each value: the faithful training input)
        without building the copies: v (..., T, d) -> (..., T, d). The first layer multiplies
        v by the sum of its k kernel blocks, k times fewer FLOPs; equal up to float rounding."""
        fc, d = self.fc, v_Td.shape[-1]
        if self.top_k * d != fc.in_features:  # else the kernel would split into wrong blocks
            raise ConfigError(f"value width {d} does not match the approximator's head size "
                              f"{fc.in_features // self.top_k}")
        w_dH = fc.kernel[...].reshape(self.top_k, d, -1).sum(0)
        h_NH = v_Td.reshape(-1, d) @ w_dH  # as rows: XLA:CPU is slower on (..., T, d) dots
        if fc.bias is not None:
            h_NH = h_NH + fc.bias[...]
        return self.out(jax.nn.relu(h_NH)).reshape(v_Td.shape)


# --------------------------------------------------------------------------- selection
def future_TS(T: int, S: int) -> jax.Array:
    """True where key s lies in the future of query t."""
    return jnp.arange(S)[None, :] > jnp.arange(T)[:, None]


def mask_future(logits_BTS: jax.Array) -> jax.Array:
    T, S = logits_BTS.shape[-2:]
    return jnp.where(future_TS(T, S), -jnp.inf, logits_BTS)


def topk_keys(scores_BTS: jax.Array, top_k: int, mode: str):
    """(idx_BTk, valid_BTk): the top-k key positions by score (ties to the lower index); in
    'fixed' mode future keys are masked first and marked invalid, in 'faithful' nothing is."""
    check_mode(mode)
    T, S = scores_BTS.shape[-2:]
    check_top_k(top_k, S)
    if mode == "fixed":
        scores_BTS = mask_future(scores_BTS)
    _, idx = jax.lax.top_k(scores_BTS, top_k)
    valid = jnp.ones(idx.shape, bool) if mode == "faithful" else idx <= jnp.arange(T)[:, None]
    return idx, valid


def gather_values(v_BTd: jax.Array, idx_BTk: jax.Array, valid_BTk: jax.Array | None = None):
    """v at the chosen keys, (B, T, k, d), zero where invalid; one gather over T*k rows."""
    T, k = idx_BTk.shape[-2:]
    lead = v_BTd.shape[:-2]
    flat = idx_BTk.reshape(*lead, T * k, 1)
    out = jnp.take_along_axis(v_BTd, flat, axis=-2).reshape(*lead, T, k, v_BTd.shape[-1])
    if valid_BTk is not None:
        out = jnp.where(valid_BTk[..., None], out, 0.0)
    return out


def faithful_train_inputs(v_BTd: jax.Array, top_k: int) -> jax.Array:
    """The original's training input: [V_t, ..., V_t] (its gather ignores the top-k indices)."""
    return jnp.repeat(v_BTd[..., None, :], top_k, axis=-2)


def exact_topk_attention(q_BTd, k_BTd, v_BTd, idx_BTk, valid_BTk):
    """Softmax attention restricted to the given keys (future keys always excluded)."""
    T, d = q_BTd.shape[-2:]
    kk = gather_values(k_BTd, idx_BTk)
    vv = gather_values(v_BTd, idx_BTk)
    s = jnp.einsum("...td,...tkd->...tk", q_BTd, kk) / jnp.sqrt(d).astype(q_BTd.dtype)
    ok = valid_BTk & (idx_BTk <= jnp.arange(T)[:, None])
    p = jax.nn.softmax(jnp.where(ok, s, -jnp.inf), axis=-1)
    return jnp.einsum("...tk,...tkd->...td", p, vv)


def teacher_probs(q_BTd, k_BTd):
    """One head's causal attention probabilities (B, T, T)."""
    return jax.nn.softmax(causal_scores(q_BTd[:, None], k_BTd[:, None])[:, 0], axis=-1)


def positional_keys(top1_NT: jax.Array, top_k: int, mode: str):
    """Position-only selector: for each query position, the k most frequent teacher top-1 keys
    (ties to the lower index; future keys masked in 'fixed'). Returns (idx_Tk, valid_Tk)."""
    T = top1_NT.shape[-1]
    counts_TS = jax.nn.one_hot(top1_NT, T).sum(0)
    return topk_keys(counts_TS, top_k, mode)


# --------------------------------------------------------------------------- head replacements
def hybrid_head(selector: KeySelector, approximator: HeadApproximator, mode: str):
    def fn(q, k, v, y):
        T = q.shape[-2]
        if selector.n_keys != T:
            raise ConfigError(f"the selector was trained for sequence length {selector.n_keys}, "
                              f"got {T}")
        idx, valid = topk_keys(selector(q), approximator.top_k, mode)
        return approximator(gather_values(v, idx, valid))
    return fn


def keys_head(idx_BTk, valid_BTk, approximator: HeadApproximator):
    """Approximator fed the values at given keys (oracle or positional)."""
    return lambda q, k, v, y: approximator(gather_values(v, idx_BTk, valid_BTk))


def zero_head(q, k, v, y):
    return jnp.zeros_like(y)


def mean_head(mean_d: jax.Array):
    return lambda q, k, v, y: jnp.broadcast_to(mean_d, y.shape)


def oracle_exact_head(top_k: int):
    """Exact attention over the teacher's own top-k keys, renormalised."""
    def fn(q, k, v, y):
        idx, valid = topk_keys(teacher_probs(q, k), top_k, "fixed")
        return exact_topk_attention(q, k, v, idx, valid)
    return fn


def given_keys_exact_head(idx_BTk, valid_BTk):
    """Exact attention over k given keys per query: the cost floor of any top-k method (choosing
    the keys is free here)."""
    return lambda q, k, v, y: exact_topk_attention(q, k, v, idx_BTk, valid_BTk)


def sparse_layer(attn: CausalSelfAttention, x_BTD: jax.Array,
                 head_fns: dict[int, HeadFn]) -> jax.Array:
    """One attention layer as a deployment would run it: the heads in `head_fns` never form QK^T
    or P V (their fn is called with y=None), only the other heads attend exactly. Returns the
    layer's output (B, T, D); equals `attn(x, head_fns)[0]` for head fns that ignore y.
    (`CausalSelfAttention.__call__` computes every head exactly and overwrites the replaced ones,
    because the experiment's evaluation also needs the exact outputs.)"""
    B, T, D = x_BTD.shape
    q, k, v = attn.qkv(x_BTD)
    exact = [h for h in range(attn.n_head) if h not in head_fns]
    ys = {}
    if exact:
        qe, ke, ve = (jnp.stack([a[:, h] for h in exact], axis=1) for a in (q, k, v))
        y_exact = jax.nn.softmax(causal_scores(qe, ke), axis=-1) @ ve
        ys = {h: y_exact[:, i] for i, h in enumerate(exact)}
    for h, fn in head_fns.items():
        ys[h] = fn(q[:, h], k[:, h], v[:, h], None)
    y_BTD = jnp.stack([ys[h] for h in range(attn.n_head)], axis=2).reshape(B, T, D)
    return attn.c_proj(y_BTD)


class HybridGPT(nnx.Module):
    """A trained GPT with heads `heads` of layer `layer` replaced by selector + approximator
    (one pair per head); the other heads and layers stay exact."""

    def __init__(self, gpt: GPT, selectors, approximators, *, layer: int = 0, heads=(0,),
                 mode: str = "fixed"):
        check_mode(mode)
        gpt.check_overrides(layer, heads)
        if not len(selectors) == len(approximators) == len(heads):
            raise ConfigError(f"need one selector and one approximator per head: {len(heads)} "
                              f"heads, {len(selectors)} selectors, {len(approximators)} "
                              "approximators")
        for a in approximators:
            check_top_k(a.top_k, gpt.cfg.block_size)
        self.gpt, self.layer, self.heads, self.mode = gpt, layer, tuple(heads), mode
        self.selectors, self.approximators = nnx.List(selectors), nnx.List(approximators)

    def __call__(self, idx_BT: jax.Array) -> jax.Array:
        fns = {h: hybrid_head(s, a, self.mode)
               for h, s, a in zip(self.heads, self.selectors, self.approximators)}
        return self.gpt(idx_BT, layer=self.layer, head_fns=fns)




# --------------------------------------------------------------------------- distillation
def selector_logits(selector: KeySelector, q_BTd: jax.Array, mode: str) -> jax.Array:
    """The selector's logits over key positions (B, T, S); future keys at -inf in 'fixed'."""
    check_mode(mode)
    logits_BTS = selector(q_BTd)
    return mask_future(logits_BTS) if mode == "fixed" else logits_BTS


def top1_nll(logits_BTS: jax.Array, top1_BT: jax.Array) -> jax.Array:
    """Mean negative log-likelihood of the teacher's top-1 key under the logits (scalar)."""
    logp_BTS = jax.nn.log_softmax(logits_BTS, -1)
    return -jnp.take_along_axis(logp_BTS, top1_BT[..., None], -1).mean()


def selector_distillation_loss(selector: KeySelector, q_BTd: jax.Array, top1_BT: jax.Array,
                               mode: str) -> jax.Array:
    """Cross-entropy of the selector's logits against the exact head's top-1 key (scalar).

    q_BTd: the head's queries; top1_BT: argmax over keys of the head's causal attention
    probabilities. In 'fixed' mode future keys are masked out of the softmax; in 'faithful' they
    are not (the original)."""
    return top1_nll(selector_logits(selector, q_BTd, mode), top1_BT)


def approximator_inputs(v_BTd: jax.Array, probs_BTS: jax.Array, top_k: int,
                        mode: str) -> jax.Array:
    """The approximator's training input (B, T, k, d): in 'fixed' the values at the teacher's
    top-k keys (zero in slots that only a future key could fill); in 'faithful' the original's
    [V_t] * k."""
    check_mode(mode)
    if mode == "faithful":
        return faithful_train_inputs(v_BTd, top_k)
    idx, valid = topk_keys(probs_BTS, top_k, "fixed")
    return gather_values(v_BTd, idx, valid)


def approximator_distillation_loss(approximator: HeadApproximator, v_BTkd: jax.Array,
                                   y_BTd: jax.Array, *, repeated: bool = False) -> jax.Array:
    """Mean squared error between the approximator on v_BTkd (from `approximator_inputs`) and
    the exact head's output y_BTd = probs_BTS @ v_BTd (scalar). With repeated=True the input is
    v_BTd itself, standing for the faithful [V_t] * k (`HeadApproximator.repeated`: the same
    loss up to rounding, without the k copies)."""
    pred_BTd = approximator.repeated(v_BTkd) if repeated else approximator(v_BTkd)
    return jnp.mean((pred_BTd - y_BTd) ** 2)


# --------------------------------------------------------------------------- the layer
def check_heads(heads: Sequence[int], n_head: int) -> None:
    bad = [h for h in heads if not 0 <= h < n_head]
    if bad:
        raise ConfigError(f"head {bad[0]} out of range: each layer has {n_head} heads")
    if len(set(heads)) != len(heads):
        raise ConfigError(f"sparse heads {tuple(heads)} repeat a head")


class TopKSparseAttention(nnx.Module):
    """Causal multi-head self-attention (GPT-2 style: fused QKV projection, H heads of size
    d = D // H, output projection) in which the heads `sparse_heads` are replaced by top-k
    sparse MLP attention: per replaced head, selector(q_t) picks k key positions, the values
    there (in top-k order) go through the approximator, which gives the head's output at t.
    Replaced heads never form QK^T or softmax(.) V; the other heads attend exactly.

    Call: `layer(x_BTD) -> y_BTD` with T == seq_len (the selector scores a fixed number of key
    positions, so a layer is tied to one sequence length). With `exact=True` (attribute, may be
    changed after construction) every head attends exactly: use it to train the host model, then
    distill, then set `exact=False`.

    Training. The selector gets no gradient through the layer (top-k is not differentiable; its
    gradient through `layer(x)` is exactly zero), so train the selectors and approximators by
    distillation from the layer's own exact heads: `distillation_losses(x_BTD)`, where x_BTD is
    what the host model feeds this layer. The teacher signals are under stop_gradient, so these
    losses move only the selectors and approximators (optimise those alone, e.g. with the filter
    `TopKSparseAttention.DISTILLED`). The approximators do get gradient through `layer(x)`, so
    they may also be fine-tuned on the host's loss afterwards.

    Modes: 'fixed' (default) is causal: future keys are never chosen and the output at t depends
    only on inputs up to t. 'faithful' reproduces the original experiment: its selector may pick
    future keys (the output at t can depend on later inputs) and its approximator is distilled on
    the query's own value repeated k times.

    Parameters: `attn` (the CausalSelfAttention: c_attn, c_proj), `selectors[i]` and
    `approximators[i]` for head `heads[i]`. Initialisation follows torch's nn.Linear unless
    init says otherwise.
    """

    DISTILLED = nnx.All(nnx.Param, nnx.Any(nnx.PathContains("selectors"),
                                           nnx.PathContains("approximators")))

    def __init__(self, n_embd: int, n_head: int, seq_len: int, *,
                 sparse_heads: Sequence[int] = (0,), top_k: int = 3, selector_hidden: int = 64,
                 approx_hidden: int = 64, mode: str = "fixed", exact: bool = False,
                 init: str = "torch", rngs: nnx.Rngs):
        check_mode(mode)
        check_top_k(top_k, seq_len)
        # validates the dimensions (positive, width divisible by heads)
        cfg = GPTConfig(vocab_size=1, block_size=seq_len, n_layer=1, n_head=n_head,
                        n_embd=n_embd, init=init)
        check_heads(sparse_heads, n_head)
        self.attn = CausalSelfAttention(cfg, rngs=rngs)
        self.selectors = nnx.List([KeySelector(cfg.head_size, seq_len, selector_hidden,
                                               rngs=rngs, init=init) for _ in sparse_heads])
        self.approximators = nnx.List([HeadApproximator(cfg.head_size, top_k, approx_hidden,
                                                        rngs=rngs, init=init)
                                       for _ in sparse_heads])
        self.heads, self.mode, self.exact = tuple(sparse_heads), mode, exact
        self.top_k, self.seq_len = top_k, seq_len

    @classmethod
    def from_modules(cls, attn: CausalSelfAttention, selectors: Sequence[KeySelector],
                     approximators: Sequence[HeadApproximator], *, heads: Sequence[int],
                     mode: str = "fixed", exact: bool = False) -> TopKSparseAttention:
        """The layer around existing modules (shared, not copied): e.g. a trained GPT block's
        attention and the selector / approximator distilled for its heads `heads`."""
        if not len(selectors) == len(approximators) == len(heads) > 0:
            raise ConfigError(f"need one selector and one approximator per head: {len(heads)} "
                              f"heads, {len(selectors)} selectors, {len(approximators)} "
                              "approximators")
        top_ks = {a.top_k for a in approximators}
        n_keys = {s.n_keys for s in selectors}
        if len(top_ks) != 1 or len(n_keys) != 1:
            raise ConfigError(f"selectors and approximators disagree: top-k {sorted(top_ks)}, "
                              f"key positions {sorted(n_keys)}")
        top_k, seq_len = top_ks.pop(), n_keys.pop()
        n_embd = attn.n_head * attn.head_size
        # the structure, without allocating weights that are replaced right away
        layer = nnx.eval_shape(lambda: cls(n_embd, attn.n_head, seq_len, sparse_heads=heads,
                                           top_k=top_k, mode=mode, exact=exact,
                                           rngs=nnx.Rngs(0)))
        layer.attn = attn
        layer.selectors, layer.approximators = nnx.List(selectors), nnx.List(approximators)
        return layer

    def _check_input(self, x_BTD: jax.Array) -> None:
        D = self.attn.n_head * self.attn.head_size
        if x_BTD.ndim != 3 or x_BTD.shape[-1] != D:
            raise ConfigError(f"input shape {tuple(x_BTD.shape)}: expected (batch, {self.seq_len}, "
                              f"{D})")
        if x_BTD.shape[1] != self.seq_len:
            raise ConfigError(f"sequence length {x_BTD.shape[1]}: this layer's selectors score "
                              f"{self.seq_len} key positions")

    def head_fns(self) -> dict[int, HeadFn]:
        """{head: hybrid head function} for `sparse_layer` or `GPT(..., head_fns=...)`."""
        return {h: hybrid_head(s, a, self.mode)
                for h, s, a in zip(self.heads, self.selectors, self.approximators)}

    def __call__(self, x_BTD: jax.Array) -> jax.Array:
        """y_BTD: the layer's output (before any residual connection)."""
        self._check_input(x_BTD)
        if self.exact:
            return self.attn(x_BTD)[0]
        return sparse_layer(self.attn, x_BTD, self.head_fns())

    def teacher(self, x_BTD: jax.Array) -> dict[str, jax.Array]:
        """The exact replaced heads' signals under stop_gradient, stacked over `heads` (n first):
        q, v (n, B, T, d), probs (n, B, T, S), top1 (n, B, T), y = probs @ v (n, B, T, d)."""
        self._check_input(x_BTD)
        _, aux = self.attn(x_BTD)
        hs = jnp.asarray(self.heads)
        q, v, probs = (jax.lax.stop_gradient(jnp.moveaxis(aux[n][:, hs], 1, 0))
                       for n in ("q", "v", "probs"))
        return {"q": q, "v": v, "probs": probs, "top1": jnp.argmax(probs, -1), "y": probs @ v}

    def distillation_losses(self, x_BTD: jax.Array) -> dict[str, jax.Array]:
        """{'selector': .., 'approximator': ..}: `selector_distillation_loss` and
        `approximator_distillation_loss` against this layer's exact heads on x_BTD, each the
        mean over the replaced heads (scalars). Only the selectors and approximators get
        gradient."""
        t = self.teacher(x_BTD)
        sel, app = [], []
        for i, (s, a) in enumerate(zip(self.selectors, self.approximators)):
            sel.append(selector_distillation_loss(s, t["q"][i], t["top1"][i], self.mode))
            if self.mode == "faithful":
                app.append(approximator_distillation_loss(a, t["v"][i], t["y"][i], repeated=True))
            else:
                xs = approximator_inputs(t["v"][i], t["probs"][i], self.top_k, self.mode)
                app.append(approximator_distillation_loss(a, xs, t["y"][i]))
        return {"selector": jnp.mean(jnp.stack(sel)), "approximator": jnp.mean(jnp.stack(app))}
