import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from jaxbespoke.nn.embeddings import param_count
from jaxbespoke.utils.errors import ConfigError
from jaxbespoke.nn.gpt import GPT, GPTConfig, lm_loss, param_formula

SMALL = GPTConfig(vocab_size=11, block_size=8, n_layer=2, n_head=2, n_embd=16)


def model(cfg=SMALL, seed=0):
    return GPT(cfg, rngs=nnx.Rngs(seed))


def ids(B=3, T=8, V=11, seed=1):
    return jax.random.randint(jax.random.key(seed), (B, T), 0, V)


def test_param_count_of_the_original_model():
    cfg = GPTConfig()
    assert param_formula(cfg) == 421_376
    m = jax.eval_shape(lambda: nnx.state(model(cfg), nnx.Param))
    assert sum(np.prod(x.shape) for x in jax.tree.leaves(m)) == 421_376


def test_param_count_matches_formula_for_other_shapes():
    assert param_count(model()) == param_formula(SMALL)


def test_init_follows_torch():
    m = model(GPTConfig())
    assert float(jnp.abs(m.pos_emb[...]).max()) == 0.0            # positions start at zero
    assert 0.9 < float(m.tok_emb.embedding[...].std()) < 1.1      # nn.Embedding N(0, 1)
    k = m.blocks[0].attn.c_attn.kernel[...]
    assert float(jnp.abs(k).max()) <= 1 / np.sqrt(128) + 1e-7     # U(+-1/sqrt(fan_in))
    assert m.head.bias is None
    assert m.blocks[0].ln1.epsilon == 1e-5


def test_shapes_and_aux():
    m = model()
    logits, aux = m(ids(), return_aux=True)
    assert logits.shape == (3, 8, 11)
    assert len(aux) == 2
    assert aux[0]["probs"].shape == (3, 2, 8, 8)
    for n in "qkv":
        assert aux[0][n].shape == (3, 2, 8, 8)
    np.testing.assert_allclose(np.asarray(aux[1]["probs"].sum(-1)), 1.0, rtol=1e-5)
    assert float(jnp.triu(aux[0]["probs"], 1).max()) == 0.0


def test_causal_mask_no_gradient_from_future_tokens():
    m = model()
    emb = m.tok_emb.embedding[...]
    x = ids(B=1)

    # The one-hot lookup makes positions' embeddings separate inputs: differentiate through them.
    onehot = jax.nn.one_hot(x, SMALL.vocab_size)

    def f(oh, t):
        h = oh @ emb + m.pos_emb[:8]
        for b in m.blocks:
            h, _ = b(h)
        return m.head(m.ln_f(h))[0, t].sum()

    for t in (0, 3, 6):
        g = jax.grad(f)(onehot, t)[0]
        norms = np.asarray(jnp.abs(g).sum(-1))
        assert np.all(norms[t + 1:] == 0.0), (t, norms)
        assert np.all(norms[: t + 1] > 0.0), (t, norms)


def test_future_tokens_do_not_change_past_logits():
    m = model()
    a = ids(B=2)
    b = a.at[:, 5:].set((a[:, 5:] + 1) % 11)
    np.testing.assert_array_equal(np.asarray(m(a)[:, :5]), np.asarray(m(b)[:, :5]))


def test_jit_matches_eager():
    m = model()
    x = ids()
    eager = m(x)
    jitted = nnx.jit(lambda mm, xx: mm(xx))(m, x)
    np.testing.assert_allclose(np.asarray(eager), np.asarray(jitted), rtol=1e-5, atol=1e-6)


def test_head_override_replaces_only_that_head():
    m = model()
    x = ids()
    full = m(x)
    same = m(x, layer=1, head_fns={0: lambda q, k, v, y: y})
    np.testing.assert_allclose(np.asarray(full), np.asarray(same), atol=1e-6)
    zeroed = m(x, layer=1, head_fns={0: lambda q, k, v, y: jnp.zeros_like(y)})
    assert float(jnp.abs(zeroed - full).max()) > 1e-4


def test_lm_loss_is_mean_ce():
    logits = jax.random.normal(jax.random.key(0), (2, 3, 5))
    y = jnp.array([[0, 1, 2], [3, 4, 0]])
    ref = -np.mean([jax.nn.log_softmax(logits[i, t])[y[i, t]] for i in range(2) for t in range(3)])
    np.testing.assert_allclose(float(lm_loss(logits, y)), ref, rtol=1e-6)


def test_bad_input():
    m = model()
    with pytest.raises(ConfigError, match="sequence length 9 exceeds"):
        m(ids(T=9))
    with pytest.raises(ConfigError, match="layer 2 out of range"):
        m(ids(), layer=2, head_fns={0: lambda q, k, v, y: y})
    with pytest.raises(ConfigError, match="head 5 out of range"):
        m(ids(), layer=0, head_fns={5: lambda q, k, v, y: y})
    with pytest.raises(ConfigError, match="not divisible"):
        GPTConfig(n_embd=10, n_head=3)


def test_linear_on_rows_is_nnx_linear():
    """init.Linear multiplies (..., d_in) inputs as one (rows, d_in) matrix (faster on XLA:CPU);
    the function is nnx.Linear's, with jit and vmap, for 1-D to 4-D inputs."""
    from jaxbespoke.nn import init as init_lib

    ours = init_lib.linear(6, 5, rngs=nnx.Rngs(0))
    ref = nnx.Linear(6, 5, rngs=nnx.Rngs(1))
    nnx.update(ref, nnx.state(ours))
    for shape in ((6,), (4, 6), (3, 4, 6), (2, 3, 4, 6)):
        x = jax.random.normal(jax.random.key(len(shape)), shape)
        want = np.asarray(ref(x))
        assert ours(x).shape == want.shape
        np.testing.assert_allclose(ours(x), want, rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(jax.jit(lambda m, x: m(x))(ours, x), want, rtol=1e-6,
                                   atol=1e-6)
    xs = jax.random.normal(jax.random.key(9), (3, 2, 4, 6))
    np.testing.assert_allclose(jax.vmap(ours)(xs), jax.vmap(ref)(xs), rtol=1e-6, atol=1e-6)
    # ... and the product really is on rows: the dot's left operand is 2-D
    dots = [e for e in jax.make_jaxpr(ours)(xs[0]).jaxpr.eqns if e.primitive.name == "dot_general"]
    assert [e.invars[0].aval.ndim for e in dots] == [2]
