import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxbespoke.protocols import floors, protocol
from jaxbespoke.training import train
from jaxbespoke.utils.errors import ConfigError, TrainingDiverged

SMALL = protocol.PooledConfig(vocab_size=40, embed_dim=8, window=6, batch=4, corpus_size=2000,
                              epochs=4, steps_per_epoch=10, eval_every=2, val_batches=2,
                              n_high=4, n_low=8, lr=1e-2)


def test_torch_clip_semantics():
    tx = train.clip_by_global_norm_torch(1.0)
    g = {"a": jnp.array([3.0, 4.0])}                        # norm 5
    out, _ = tx.update(g, tx.init(g))
    np.testing.assert_allclose(out["a"], np.array([3.0, 4.0]) / (5 + 1e-6), rtol=1e-7)
    small = {"a": jnp.array([0.3, 0.4])}
    out, _ = tx.update(small, tx.init(small))
    np.testing.assert_allclose(out["a"], small["a"])        # capped at 1: unchanged


def test_cosine_schedule_is_constant_within_an_epoch():
    cfg = train.OptimConfig("adamw", lr=1.0, weight_decay=0.01, schedule="cosine_epoch")
    sched = train.lr_schedule(cfg, steps_per_epoch=5, epochs=4)
    lrs = np.array([float(sched(i)) for i in range(20)])
    expect = np.repeat([(1 + np.cos(np.pi * e / 4)) / 2 for e in range(4)], 5)
    np.testing.assert_allclose(lrs, expect, rtol=1e-6)


def test_skipped_group_keeps_params_and_state_like_torch_none_grad():
    params = {"a": jnp.ones(3), "b": jnp.ones(2)}
    labels = lambda tree: {"a": "a", "b": "b"}
    tx = train.make_optimizer(train.OptimConfig("adam", lr=0.1), 1, 1, labels, ("a", "b"))
    state = tx.init(params)
    grads = {"a": jnp.ones(3), "b": jnp.ones(2)}
    upd, state1 = tx.update(grads, state, params, active={"a": jnp.bool_(True), "b": jnp.bool_(False)})
    assert float(jnp.abs(upd["b"]).sum()) == 0.0 and float(jnp.abs(upd["a"]).sum()) > 0
    inner0, inner1 = state[0].inner_states, state1[0].inner_states
    for x, y in zip(jax.tree.leaves(inner0["b"]), jax.tree.leaves(inner1["b"])):
        np.testing.assert_array_equal(x, y)                 # moments and step count untouched
    counts = [int(c) for c in jax.tree.leaves(inner1) if jnp.issubdtype(c.dtype, jnp.integer)]
    assert sorted(counts) == [0, 1]
    # Without skipping, a zero gradient still moves "b" once momentum exists; with skipping it
    # never moves while inactive.
    upd2, _ = tx.update({"a": jnp.ones(3), "b": jnp.zeros(2)}, state1, params,
                        active={"a": jnp.bool_(True), "b": jnp.bool_(False)})
    assert float(jnp.abs(upd2["b"]).sum()) == 0.0


@pytest.fixture(scope="module")
def runs():
    cfg = dataclasses.replace(SMALL, epochs=6)
    run = lambda seeds: protocol.run_pooled(cfg, seeds, progress=False, kinds=("bespoke",))
    return cfg, run([3, 7]), run([3]), run([3])


def test_training_moves_loss_toward_the_floor(runs):
    cfg, both, _, _ = runs
    h = both["models"]["bespoke"]["history"]
    floor = floors.pooled_floor(cfg)["entropy"]
    first, last = h["val_full"][:, 0], h["val_full"][:, -1]
    assert (last < first).all() and (last - floor < 0.5 * (first - floor)).all()


def test_same_seed_gives_identical_results(runs):
    _, _, a, b = runs
    for k in ("val_full", "val_original", "train_loss"):
        np.testing.assert_array_equal(a["models"]["bespoke"]["history"][k],
                                      b["models"]["bespoke"]["history"][k])


def test_vmapped_seeds_equal_seeds_run_one_at_a_time(runs):
    _, both, one, _ = runs
    for k in ("val_full", "val_original"):
        np.testing.assert_allclose(both["models"]["bespoke"]["history"][k][0],
                                   one["models"]["bespoke"]["history"][k][0], rtol=2e-5)


def test_nan_loss_stops_with_epoch_and_seed():
    cfg = dataclasses.replace(SMALL, epochs=3)
    data, tier_list = protocol.build_data(cfg, [5, 6])
    task = protocol.pooled_task(cfg)
    poisoned = dataclasses.replace(
        task, loss=lambda m, b: task.loss(m, b) * jnp.where(b[1][0] >= 0, jnp.nan, 1.0))
    keys = protocol.seed_keys([5, 6])
    graphdef, states = train.init_states(
        lambda k: protocol.make_model(cfg, "standard", k), keys)
    tr = train.Trainer(graphdef, poisoned, train.TrainConfig(3, 5, eval_epochs=(0,)))
    with pytest.raises(TrainingDiverged, match=r"epoch 1 for seed\(s\) \[5, 6\]") as e:
        tr.fit(tr.init(states), data, keys, [5, 6], progress=False)
    assert e.value.epoch == 0 and e.value.seeds == [5, 6]


def test_bad_train_config():
    with pytest.raises(ConfigError, match="epochs"):
        train.TrainConfig(epochs=0, steps_per_epoch=1)
    with pytest.raises(ConfigError, match="outside"):
        train.TrainConfig(epochs=3, steps_per_epoch=1, eval_epochs=(5,))
    with pytest.raises(ConfigError, match="optimiser"):
        train.OptimConfig("sgd")
    assert train.eval_schedule(50, 10) == (0, 10, 20, 30, 40, 49)


def test_run_reports_the_compiled_programs_flops(runs):
    """XLA counts the epoch's scan body once: the 'step' FLOPs are one step for all seeds."""
    cfg, both, one, _ = runs
    t2, t1 = both["timing"]["bespoke"], one["timing"]["bespoke"]
    assert t1["steps"] == cfg.epochs * cfg.steps_per_epoch and t1["evals"] == len(cfg.eval_epochs)
    assert 0 < t1["flops"]["step"] < 1e7 and 0 < t1["flops"]["eval"]
    assert t2["flops"]["step"] == pytest.approx(2 * t1["flops"]["step"], rel=0.05)


def test_sample_receives_the_global_step_index():
    """Every task's sample gets (key, data, step): step = epoch * steps_per_epoch + k."""
    from flax import nnx

    task = train.Task(sample=lambda key, data, step: step.astype(jnp.float32),
                      loss=lambda m, b: b + 0.0 * m.kernel[...].sum(),
                      evaluate=lambda m, key, data: {})
    keys = protocol.seed_keys([0, 1])
    graphdef, states = train.init_states(lambda k: nnx.Linear(1, 1, rngs=nnx.Rngs(k)), keys)
    tr = train.Trainer(graphdef, task, train.TrainConfig(epochs=3, steps_per_epoch=4))
    _, hist = tr.fit(tr.init(states), {"x": jnp.zeros((2, 1))}, keys, [0, 1], progress=False)
    np.testing.assert_array_equal(hist.arrays()["train_loss"],
                                  np.tile([[1.5, 5.5, 9.5]], (2, 1)))


def test_named_streams_keep_the_historical_numbers():
    """The named streams are the literal fold_in numbers every recorded result was drawn with."""
    from jaxbespoke.training import streams

    data = lambda k: np.asarray(jax.random.key_data(k))  # noqa: E731
    seeds = [3, 7]
    keys = jax.vmap(jax.random.key)(jnp.asarray(seeds, jnp.uint32))
    np.testing.assert_array_equal(data(streams.seed_keys(seeds)), data(keys))
    lit = lambda n: jax.vmap(lambda k: jax.random.fold_in(k, n))(keys)  # noqa: E731
    for stream, n in ((streams.DATA, 1), (streams.TRAIN, 2), (streams.init_stream(1), 11),
                      (streams.unpaired_stream(1), 1001), (streams.Sparse.TRAIN_BATCH, 10)):
        np.testing.assert_array_equal(data(streams.fold(keys, stream)), data(lit(n)))
    assert [int(s) for s in streams.Sparse] == list(range(1, 11))
    np.testing.assert_array_equal(data(streams.stage_keys(seeds, streams.Sparse.COLLECT)),
                                  data(lit(4)))
    k = keys[0]
    np.testing.assert_array_equal(data(streams.eval_key(k, 3)), data(
        jax.random.fold_in(jax.random.fold_in(k, 3), 0x5EED)))
    np.testing.assert_array_equal(data(streams.epoch_keys(k, 2, 5)), data(
        jax.random.split(jax.random.fold_in(k, 2), 5)))


def _pooled_fit_args(cfg, seeds):
    data, tier_list = protocol.build_data(cfg, seeds)
    keys = protocol.seed_keys(seeds)
    tcfg = train.TrainConfig(cfg.epochs, cfg.steps_per_epoch, train.OptimConfig("adam", lr=cfg.lr),
                             cfg.eval_epochs, skip_absent_groups=True)
    tier_SV = jnp.asarray(np.stack([t.tier_V for t in tier_list]))
    rows_SV = jnp.asarray(np.stack([t.rows_V() for t in tier_list]))
    return (lambda k, tv, rv: protocol.make_model(cfg, "bespoke", k, tv, rv),
            (keys, tier_SV, rows_SV), protocol.pooled_task(cfg), tcfg, data, keys)


def test_fit_seeds_is_the_trainer_driven_by_hand():
    """fit_seeds = init_states -> Trainer(group_of) -> init -> compile -> fit: same numbers as the
    engine driven step by step, a named state, and seed i's trained model."""
    from flax import nnx

    from jaxbespoke.training.fit import fit_seeds

    cfg = dataclasses.replace(SMALL, epochs=2, steps_per_epoch=5, eval_every=1)
    make, init_args, task, tcfg, data, keys = _pooled_fit_args(cfg, [3, 7])
    res = fit_seeds(make, init_args, task, tcfg, data, keys, [3, 7], progress=False)

    graphdef, states = train.init_states(make, *init_args)
    model0 = nnx.merge(graphdef, jax.tree.map(lambda x: x[0], states))
    tr = train.Trainer(graphdef, task, tcfg, group_of=model0.group_of)
    state, hist = tr.fit(tr.init(states), data, keys, [3, 7], progress=False)

    assert isinstance(res.state, train.TrainState) and isinstance(state, train.TrainState)
    for k, v in hist.arrays().items():
        np.testing.assert_array_equal(res.history.arrays()[k], v)
    for a, b in zip(jax.tree.leaves(res.state), jax.tree.leaves(state)):
        np.testing.assert_array_equal(a, b)
    t = res.timing
    assert t.compile_s > 0 and t.run_s > 0 and t.start_epoch == 0 and t.steps == t.steps_run == 10
    assert t.total_s >= t.compile_s + t.run_s - 1e-3 and t.flops["step"] > 0
    # seed 1's trained model, eager, equals the vmapped jitted forward of the whole state
    x = data["val"][1, :12].reshape(2, 6)
    eager = res.model(1)(x)
    batched = jax.jit(jax.vmap(lambda s: nnx.merge(res.graphdef, s)(x)))(res.model_state())
    np.testing.assert_allclose(eager, batched[1], rtol=1e-5, atol=1e-6)


def test_fit_seeds_resumes_a_finished_run_without_compiling(tmp_path):
    from jaxbespoke.training.checkpoint import RunCheckpoint
    from jaxbespoke.training.fit import fit_seeds

    cfg = dataclasses.replace(SMALL, epochs=2, steps_per_epoch=3, eval_every=1)
    make, init_args, task, tcfg, data, keys = _pooled_fit_args(cfg, [4])
    runs = []
    for _ in range(2):
        ck = RunCheckpoint(tmp_path / "ck", {"test": 1}, last_epoch=tcfg.epochs - 1)
        runs.append(fit_seeds(make, init_args, task, tcfg, data, keys, [4], checkpoint=ck,
                              progress=False))
        ck.close()
    first, again = runs
    assert again.timing.start_epoch == 2 and again.timing.compile_s == 0.0
    assert again.timing.steps_run == 0 and isinstance(again.state, train.TrainState)
    np.testing.assert_array_equal(again.history.arrays()["val_full"],
                                  first.history.arrays()["val_full"])
    for a, b in zip(jax.tree.leaves(again.state), jax.tree.leaves(first.state)):
        np.testing.assert_array_equal(a, b)


def test_replica_bespoke_trains_as_its_compact_copy_with_the_same_numbers():
    """run_pooled trains a replica-layout bespoke model as its compact copy (the optimiser skips
    the rows no token of a tier reads): the same history bit for bit, and the copy's rows are
    the replica's trained rows; the replica's other rows never move from their initial values."""
    from flax import nnx

    from jaxbespoke.training.fit import fit_seeds

    cfg = dataclasses.replace(SMALL, epochs=2, steps_per_epoch=8, eval_every=1)
    seeds = [3, 7]
    make, init_args, task, tcfg, data, keys = _pooled_fit_args(cfg, seeds)
    compact = lambda k, tv, rv: protocol.make_model(cfg, "bespoke", k, tv, rv,  # noqa: E731
                                                    train_rows_only=True)
    rep = fit_seeds(make, init_args, task, tcfg, data, keys, seeds, progress=False)
    cop = fit_seeds(compact, init_args, task, tcfg, data, keys, seeds, progress=False)
    for k, v in rep.history.arrays().items():
        np.testing.assert_array_equal(cop.history.arrays()[k], v, err_msg=k)
    _, init_states = train.init_states(make, *init_args)
    tier_SV = np.asarray(init_args[1])
    for s in range(len(seeds)):
        r, c = rep.model(s).embed, cop.model(s).embed
        m0 = nnx.merge(rep.graphdef, jax.tree.map(lambda x: x[s], init_states)).embed
        assert c.layout == "compact" and r.layout == "replica"
        for t in range(3):
            ids = np.flatnonzero(tier_SV[s] == t)
            rt = np.asarray(r._paths()[t].table.embedding[...])
            ct = np.asarray(c._paths()[t].table.embedding[...])
            np.testing.assert_array_equal(ct[:ids.size], rt[ids])
            other = np.setdiff1d(np.arange(cfg.vocab_size), ids)
            np.testing.assert_array_equal(rt[other], np.asarray(m0._paths()[t].table.embedding[...])[other])
            assert not np.array_equal(rt[ids], np.asarray(m0._paths()[t].table.embedding[...])[ids])
        np.testing.assert_array_equal(c.tiers["0_high"].proj.kernel[...], r.tiers["0_high"].proj.kernel[...])


def _standard_fit(cfg, seeds, tcfg, task=None, **kw):
    from jaxbespoke.training.fit import fit_seeds

    data, _ = protocol.build_data(cfg, seeds)
    keys = protocol.seed_keys(seeds)
    return fit_seeds(lambda k: protocol.make_model(cfg, "standard", k), keys,
                     task or protocol.pooled_task(cfg), tcfg, data, keys, seeds,
                     progress=False, **kw)


def test_lr_scale_is_a_per_seed_learning_rate():
    """One program, two seeds with learning-rate multipliers 1 and 3 (AdamW: the decay scales
    too), equals each seed trained alone with learning rate lr and 3 lr."""
    cfg = dataclasses.replace(SMALL, epochs=2, steps_per_epoch=5)

    def tcfg(lr):
        return train.TrainConfig(2, 5, train.OptimConfig("adamw", lr=lr, weight_decay=0.1,
                                                         clip_norm=1.0, schedule="cosine_epoch"))

    both = _standard_fit(cfg, [4, 4], tcfg(1e-3), lr_scale=[1.0, 3.0])
    for i, lr in enumerate((1e-3, 3e-3)):
        alone = _standard_fit(cfg, [4], tcfg(lr))
        for a, b in zip(jax.tree.leaves(both.state.params), jax.tree.leaves(alone.state.params)):
            np.testing.assert_allclose(a[i], b[0], rtol=1e-5, atol=1e-6)
    p0, p1 = (jax.tree.leaves(both.state.params)[0][i] for i in (0, 1))
    assert not np.allclose(p0, p1)          # the multipliers really differ in effect


@pytest.mark.parametrize("scale, needle", [([1.0], "2 finite positive"),
                                           ([1.0, 0.0], "finite positive"),
                                           ([1.0, float("nan")], "finite positive")])
def test_bad_lr_scale_is_refused(scale, needle):
    cfg = dataclasses.replace(SMALL, epochs=1, steps_per_epoch=2)
    with pytest.raises(ConfigError, match=needle):
        _standard_fit(cfg, [1, 2], train.TrainConfig(1, 2), lr_scale=scale)


def test_a_sweep_keeps_training_past_a_diverging_seed():
    """halt_on_divergence=False: a seed whose loss is NaN keeps NaN in its history, the other
    seed trains on exactly as it would alone."""
    cfg = dataclasses.replace(SMALL, epochs=2, steps_per_epoch=3)
    task = protocol.pooled_task(cfg)
    # poison only seed 8's data: its corpus is shifted so every sampled loss becomes NaN
    poisoned = dataclasses.replace(task, loss=lambda m, b: task.loss(m, b) * jnp.where(
        b[1][0] >= 1000, jnp.nan, 1.0))
    tcfg = train.TrainConfig(2, 3, eval_epochs=(1,), halt_on_divergence=False)
    from jaxbespoke.training.fit import fit_seeds

    seeds = [7, 8]
    data, _ = protocol.build_data(cfg, seeds)
    data = {**data, "train": data["train"].at[1].add(1000)}
    keys = protocol.seed_keys(seeds)
    res = fit_seeds(lambda k: protocol.make_model(cfg, "standard", k), keys, poisoned, tcfg,
                    data, keys, seeds, progress=False)
    loss = res.history.arrays()["train_loss"]
    assert np.isnan(loss[1]).all() and np.isfinite(loss[0]).all()
    alone = _standard_fit(cfg, [7], dataclasses.replace(tcfg, halt_on_divergence=True))
    np.testing.assert_allclose(loss[0], alone.history.arrays()["train_loss"][0], rtol=1e-6)
    with pytest.raises(TrainingDiverged):     # the default still stops
        fit_seeds(lambda k: protocol.make_model(cfg, "standard", k), keys, poisoned,
                  dataclasses.replace(tcfg, halt_on_divergence=True), data, keys, seeds,
                  progress=False)


def test_trainer_reports_its_compiled_memory_plan():
    cfg = dataclasses.replace(SMALL, epochs=1, steps_per_epoch=2)
    m1 = _standard_fit(cfg, [1], train.TrainConfig(1, 2)).trainer.memory()
    m4 = _standard_fit(cfg, [1, 2, 3, 4], train.TrainConfig(1, 2)).trainer.memory()
    assert m1["total"] > 0 and m1["arguments"] > 0
    assert m4["arguments"] > 3 * m1["arguments"]    # four seeds' parameters and Adam state
