"""Adversarial probes of every entry point and the library's edges: each failure is one clear
message (exit 2 for bad input, 1 for divergence), never a traceback, never a silently wrong or
lost result. The README's "Reliability" section states exactly what these check."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from jaxbespoke.utils import guards
from jaxbespoke.nn.embeddings import BespokeEmbedding, BespokeSpec, StandardEmbedding
from jaxbespoke.utils.errors import ConfigError
from jaxbespoke.nn.gpt import lm_loss
from jaxbespoke.nn.models import PooledNextToken, cross_entropy
from jaxbespoke.nn.strategies import Bands, size

V = 10
TIER_V = np.array([0, 0, 1, 1, 1, 2, 2, 2, 2, -1], np.int32)
ROWS_V = np.array([0, 1, 0, 1, 2, 0, 1, 2, 3, 0], np.int32)


# --------------------------------------------------------------------------- library edges
def _embeddings():
    spec = BespokeSpec((8, 4, 2))
    bands = Bands(np.array([0, 0, 1, 1, 1, 2, 2, 2, 2, 2], np.int32),
                  np.array([0, 1, 0, 1, 2, 0, 1, 2, 3, 4], np.int32), (2, 3, 5), (0.5, 0.3, 0.2),
                  ("high", "mid", "low"))
    out = {"standard": StandardEmbedding(V, 4, rngs=nnx.Rngs(0)),
           "bespoke_replica": BespokeEmbedding(V, 4, TIER_V, spec, rngs=nnx.Rngs(0)),
           "bespoke_compact": BespokeEmbedding(V, 4, jnp.asarray(TIER_V), spec,
                                               layout="compact", rows=(2, 3, 4), rows_V=ROWS_V,
                                               rngs=nnx.Rngs(0))}
    for strat in ("standard", "factorised", "adaptive", "mixed", "bespoke_compact"):
        budget = {"standard": 20, "factorised": 30}.get(strat, 40)
        plan = size(strat, budget, V, 4, bands, tol=0.5)
        out[f"strategy_{strat}"] = plan.build(bands, rngs=nnx.Rngs(1))
    return out


EMBEDDINGS = _embeddings()


@pytest.mark.parametrize("name", list(EMBEDDINGS))
@pytest.mark.parametrize("bad", [-1, V, 10 * V])
def test_out_of_range_id_raises_eagerly(name, bad):
    with pytest.raises(ConfigError, match=f"found {bad}"):
        EMBEDDINGS[name](jnp.array([[1, bad]]))


@pytest.mark.parametrize("name", list(EMBEDDINGS))
def test_out_of_range_id_is_a_nan_row_under_jit_never_another_row(name):
    m = EMBEDDINGS[name]
    ids = jnp.array([[1, -1, V, 9, -V - 3]])
    out = np.asarray(nnx.jit(lambda m, x: m(x))(m, ids))
    assert np.isnan(out[0, [1, 2, 4]]).any(axis=-1).all()  # (the padded strategy pads with 0)
    assert np.isfinite(out[0, [0, 3]]).all()
    np.testing.assert_allclose(out[0, [0, 3]], np.asarray(m(jnp.array([[1, 9]])))[0],
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["standard", "bespoke_replica", "bespoke_compact"])
def test_checked_raises_under_jit(name):
    m = EMBEDDINGS[name]
    with pytest.raises(ConfigError, match=r"token ids must lie in \[0, 10\)"):
        guards.checked(lambda x: m(x))(jnp.array([[1, -1]]))
    np.testing.assert_allclose(guards.checked(lambda x: m(x))(jnp.array([[1, 2]])),
                               m(jnp.array([[1, 2]])), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("tier_V, message", [
    (jnp.array([0, 5, 1, 1, 1, 2, 2, 2, 2, 0]), "tier 5"),
    ([0, 1, 2] * 3, r"shape \(9,\)"),
    ([0, -3] + [0] * 8, "tier -3"),
    (np.arange(V), "tier 9"),
    (np.full(V, 0.5), "whole numbers"),
])
def test_tier_map_of_any_array_type_is_validated(tier_V, message):
    with pytest.raises(ConfigError, match=message):
        BespokeEmbedding(V, 4, tier_V, BespokeSpec((8, 4, 2)), rngs=nnx.Rngs(0))


def test_traced_bad_tier_map_gives_nan_rows_not_zeros():
    def embed(tv, x):
        return BespokeEmbedding(V, 4, tv, BespokeSpec((8, 4, 2)), rngs=nnx.Rngs(0))(x)

    out = np.asarray(jax.jit(embed)(jnp.array([0, 5, 1, 1, 1, 2, 2, 2, 2, -1]),
                                    jnp.array([[0, 1, 9]])))
    assert np.isfinite(out[0, 0]).all() and np.isnan(out[0, 1]).all()
    assert (out[0, 2] == 0).all()  # tier -1 = no tier: zeros, as documented


@pytest.mark.parametrize("bad", [V, -1])
def test_cross_entropy_targets(bad):
    logits = jnp.zeros((3, V))
    y = jnp.array([1, bad, 2])
    with pytest.raises(ConfigError, match=f"targets must lie in \\[0, {V}\\); found {bad}"):
        cross_entropy(logits, y)
    assert np.isnan(jax.jit(cross_entropy)(logits, y))
    with pytest.raises(ConfigError, match="targets"):
        lm_loss(logits[None], y[None])
    assert np.isnan(jax.jit(lm_loss)(logits[None], y[None]))
    assert np.isclose(cross_entropy(logits, jnp.array([1, 2, 3])), np.log(V))


@pytest.mark.parametrize("embed", ["standard", "bespoke_replica", "bespoke_compact"])
def test_pooled_model_ids(embed):
    m = PooledNextToken(EMBEDDINGS[embed], V, 4, rngs=nnx.Rngs(1))
    with pytest.raises(ConfigError, match="found -1"):
        m(jnp.array([[1, -1]]))
    out = np.asarray(nnx.jit(lambda m, x: m(x))(m, jnp.array([[1, -1], [1, 2]])))
    assert np.isnan(out[0]).all() and np.isfinite(out[1]).all()


# --------------------------------------------------------------------------- entry points
import importlib  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from conftest import ROOT  # noqa: E402

from jaxbespoke.training import checkpoint  # noqa: E402
from jaxbespoke.utils import cli, outputs, report  # noqa: E402
from jaxbespoke.training.train import History  # noqa: E402

SCRIPTS = {"sparse_attention": "jaxbespoke.scripts.sparse_attention",
           "attention_cost": "jaxbespoke.scripts.attention_cost",
           "embedding_strategies": "jaxbespoke.scripts.embedding_strategies",
           "convergence": "jaxbespoke.scripts.convergence",
           "replicate": "jaxbespoke.scripts.replicate",
           "parity_report": "parity.report"}


def script(name):
    """The module of an entry point (experiments/*.py and the console scripts run its main)."""
    return importlib.import_module(SCRIPTS[name])


def run(name, argv, capsys):
    """Run a script's main(argv) in-process through cli.run_main, as `python script` would:
    (exit status, stdout, stderr)."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as ex:
        cli.run_main(lambda: script(name).main(argv))
    cap = capsys.readouterr()
    return ex.value.code, cap.out, cap.err


def assert_clean_error(code, err, status, *needles):
    assert code == status, err
    assert "Traceback" not in err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert 1 <= len(lines) <= 3, err
    for n in needles:
        assert n in err, (n, err)


CLI_SCRIPTS = ["sparse_attention", "attention_cost", "embedding_strategies", "convergence",
               "replicate"]


@pytest.mark.parametrize("name", CLI_SCRIPTS)
@pytest.mark.parametrize("argv, needle", [
    (["--seed-base", "-5"], "--seed-base"),
    (["--seed-base", "4294967296"], "--seed-base"),
    (["--seed-base", "2147483647", "--seeds", "2"], "2**31"),
    (["--seeds", "0"], "--seeds"),
    (["--seeds", "99999999999"], "--seeds"),
])
def test_bad_seed_flags_exit_2(name, argv, needle, capsys, tmp_path):
    code, _, err = run(name, argv + ["--quick", "--out", str(tmp_path / "o")], capsys)
    assert_clean_error(code, err, 2, needle)


def _unwritable(tmp_path):
    if os.geteuid() == 0:  # root writes anywhere a folder exists; /proc refuses new entries
        return Path("/proc/jaxbespoke-probe/out")
    d = tmp_path / "ro"
    d.mkdir()
    d.chmod(0o500)
    return d / "out"


@pytest.mark.parametrize("name", CLI_SCRIPTS + ["parity_report"])
@pytest.mark.parametrize("kind", ["file", "unwritable"])
def test_bad_out_is_refused_before_any_compute(name, kind, capsys, tmp_path):
    if kind == "file":
        out = tmp_path / "taken"
        out.write_text("not a folder")
    else:
        out = _unwritable(tmp_path)
    t0 = time.perf_counter()
    code, _, err = run(name, ["--quick", "--out", str(out)], capsys)
    assert_clean_error(code, err, 2, str(out))
    assert time.perf_counter() - t0 < 5  # refused up front, not after training


@pytest.mark.parametrize("name", CLI_SCRIPTS + ["parity_report"])
def test_second_run_on_the_same_folder_is_refused_at_once(name, capsys, tmp_path):
    out = tmp_path / "busy"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from jaxbespoke.utils import outputs; "
         "outputs.prepare(sys.argv[1]); print('locked', flush=True); time.sleep(60)", str(out)],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert holder.stdout.readline().strip() == "locked"
        code, _, err = run(name, ["--quick", "--out", str(out)], capsys)
        assert_clean_error(code, err, 2, "in use by another run", f"pid {holder.pid}")
    finally:
        holder.kill()
        holder.wait()


def test_lock_is_released_when_its_process_dies(tmp_path):
    out = tmp_path / "o"
    subprocess.run([sys.executable, "-c", "import sys, os; from jaxbespoke.utils import "
                    "outputs; outputs.prepare(sys.argv[1]); os._exit(9)", str(out)], check=False,
                   env={**os.environ, "PYTHONPATH": str(ROOT)})
    outputs.prepare(out)  # a killed run leaves no stale lock
    outputs.release_folder(out)


@pytest.mark.parametrize("argv, needle", [
    (["--max-len", "10"], "--max-len 10"),
    (["--d", "65536", "--heads", "1", "--tokens", "2147483647", "--max-len", "16384"],
     "needs about"),
    (["--d", "100", "--heads", "3"], "divisible"),
])
def test_attention_cost_bad_sizes(argv, needle, capsys, tmp_path):
    code, _, err = run("attention_cost", argv + ["--out", str(tmp_path)], capsys)
    assert_clean_error(code, err, 2, needle)


def test_quick_honours_explicit_flags(capsys, tmp_path):
    code, _, err = run("attention_cost", ["--quick", "--tokens", "512", "--repeats", "1",
                                          "--no-progress", "--out", str(tmp_path)], capsys)
    assert code == 0, err
    d = json.loads((tmp_path / "attention_cost.json").read_text())
    assert d["args"]["repeats"] == 1 and d["args"]["tokens"] == 512  # explicit, not quick's
    assert d["args"]["warmup"] == 1                                  # quick's, not 2
    assert [r["T"] for r in d["wall"]] == [64]


@pytest.mark.parametrize("case, needle", [("missing", "cannot read"),
                                          ("garbage", "not valid JSON"),
                                          ("other", "not a parity.json")])
def test_parity_render_bad_file(case, needle, capsys, tmp_path):
    p = tmp_path / "p.json"
    if case == "garbage":
        p.write_text("{")
    elif case == "other":
        p.write_text("{}")
    code, _, err = run("parity_report", ["--render", str(p), "--out", str(tmp_path / "o")],
                       capsys)
    assert_clean_error(code, err, 2, needle, str(p))


def test_text_cache_damaged_or_unwritable_is_not_fatal(tmp_path, capsys):
    from jaxbespoke.data import text

    src = tmp_path / "t.txt"
    src.write_text("the cat sat on the mat . the dog sat too .\n" * 20)
    ref = text.load(str(src), 32, cache_dir=tmp_path / "cache")
    (cache,) = (tmp_path / "cache").glob("*.npz")
    cache.write_bytes(cache.read_bytes()[:40])                     # truncated
    got = text.load(str(src), 32, cache_dir=tmp_path / "cache")
    assert "ignoring unreadable cache" in capsys.readouterr().err
    np.testing.assert_array_equal(got.ids, ref.ids)
    blocker = tmp_path / "file"
    blocker.write_text("")
    got = text.load(str(src), 32, cache_dir=blocker / "sub")       # cannot be created
    assert "cannot write the corpus cache" in capsys.readouterr().err
    np.testing.assert_array_equal(got.ids, ref.ids)


# --------------------------------------------------------------------------- checkpoints
def _checkpoint(d, steps=3):
    ck = checkpoint.RunCheckpoint(d, {"probe": 1})
    h = History(seeds=[0])
    for e in range(steps):
        h.train_loss.append(np.array([1.0 + e], np.float32))
        ck.save(e, [jnp.full(4, float(e))], h)
    return ck


@pytest.mark.parametrize("damage", ["meta", "state", "missing_state"])
def test_corrupted_checkpoint_falls_back_to_the_older_step(damage, tmp_path, capfd):
    d = tmp_path / "ck"
    _checkpoint(d)
    step = d / "3"
    if damage == "meta":
        (step / "meta" / "metadata").write_text('{"finger')
    elif damage == "state":
        for p in (step / "state").rglob("*"):
            if p.is_file() and p.parent.name == "d":
                p.write_bytes(p.read_bytes()[:10])
    else:
        import shutil

        shutil.rmtree(step / "state")
    capfd.readouterr()
    state, hist, start = checkpoint.RunCheckpoint(d, {"probe": 1}).restore([jnp.zeros(4)])
    err = capfd.readouterr().err
    assert start == 2 and float(state[0][0]) == 1.0 and len(hist.train_loss) == 2
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert str(step) in err and "falling back to step 2" in err
    assert not step.exists() and list((tmp_path / "ck.corrupt").iterdir())


def test_checkpoint_of_another_configuration_is_still_refused(tmp_path):
    _checkpoint(tmp_path / "ck", 1)
    with pytest.raises(ConfigError, match="another configuration"):
        checkpoint.RunCheckpoint(tmp_path / "ck", {"probe": 2}).restore([jnp.zeros(4)])
    assert (tmp_path / "ck" / "1").exists()


def test_second_process_on_a_checkpoint_is_refused(tmp_path):
    d = tmp_path / "ck"
    code = ("import sys, time; from jaxbespoke.training import checkpoint; "
            "checkpoint.RunCheckpoint(sys.argv[1], {}); print('locked', flush=True); "
            "time.sleep(60)")
    holder = subprocess.Popen([sys.executable, "-c", code, str(d)], stdout=subprocess.PIPE,
                              text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(ConfigError, match="in use by another run"):
            checkpoint.RunCheckpoint(d, {})
    finally:
        holder.kill()
        holder.wait()


# --------------------------------------------------------------------------- written files
@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_written_files_respect_the_umask(umask, tmp_path):
    old = os.umask(umask)
    try:
        report.write_atomic(tmp_path / "a.md", "x")
        fig, _ = report._plt().subplots()
        report.save(fig, tmp_path / "a.png")
    finally:
        os.umask(old)
    for name in ("a.md", "a.png"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o666 & ~umask
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


# --------------------------------------------------------------------------- divergence
def _tiny_trainer(evaluate, loss_limit=None, limit_metrics=()):
    from jaxbespoke.training.train import Task, TrainConfig, Trainer, init_states

    task = Task(sample=lambda key, data, step: data["x"], loss=lambda m, x: jnp.mean(m(x) ** 2),
                evaluate=evaluate, loss_limit=loss_limit, limit_metrics=limit_metrics)
    keys = jax.vmap(jax.random.key)(jnp.arange(2))
    graphdef, states = init_states(lambda k: nnx.Linear(1, 1, rngs=nnx.Rngs(k)), keys)
    tr = Trainer(graphdef, task, TrainConfig(epochs=3, steps_per_epoch=2, eval_epochs=(0, 1, 2)))
    return tr, tr.init(states), {"x": jnp.ones((2, 4, 1))}, keys


@pytest.mark.parametrize("value, limit, needle", [
    (np.inf, None, "evaluated val became NaN/inf"),
    (np.nan, None, "evaluated val became NaN/inf"),
    (1e20, 50.0, "evaluated val blew up above 50"),
])
def test_every_evaluated_metric_is_checked(value, limit, needle):
    from jaxbespoke.utils.errors import TrainingDiverged

    def evaluate(model, key, data):
        return {"val": jnp.sum(model.kernel[...]) * 0 + 1.0, "acc": jnp.float32(0.5)}

    tr, state, data, keys = _tiny_trainer(evaluate, limit, ("val",))
    real = tr._evaluate

    def wrapped(split, params, rest, data, keys, epoch):  # finite in epoch 1, bad from 2 on
        out = real(split, params, rest, data, keys, epoch)
        if epoch >= 1:
            out["val"] = np.full_like(out["val"], value)
        return out

    tr._evaluate = wrapped
    with pytest.raises(TrainingDiverged, match=needle) as ex:
        tr.fit(state, data, keys, [0, 1], progress=False, desc="m")
    assert ex.value.epoch == 1 and ex.value.seeds == [0, 1]
    assert ex.value.partial.eval_epochs == [0] and len(ex.value.partial.train_loss) == 2


@pytest.mark.slow
def test_divergence_keeps_what_finished_and_the_folder_consistent(capsys, tmp_path):
    # an earlier run's report and plot in the folder must not survive next to a diverged JSON
    (tmp_path / "convergence.md").write_text("# an earlier, successful run")
    (tmp_path / "convergence.png").write_bytes(b"old plot")
    # lr 1: the standard model (trained first) finishes, the bespoke one blows up in epoch 1
    code, _, err = run("convergence", ["--quick", "--seeds", "2", "--lr", "1", "--no-progress",
                                       "--out", str(tmp_path)], capsys)
    assert code == 1 and "Traceback" not in err
    assert "bespoke" in err and "blew up above 40.94" in err and "epoch 1" in err
    assert len(err.strip().splitlines()) <= 3
    d = json.loads((tmp_path / "convergence.json").read_text())
    assert d["status"] == "diverged" and d["diverged"]["epoch"] == 1
    std = d["completed_models"]["standard"]
    assert np.isfinite(np.asarray(std["history"]["val_full"], float)).all()
    assert np.asarray(std["history"]["train_loss"]).shape == (2, 3)
    assert "DIVERGED" in (tmp_path / "convergence.md").read_text()
    assert not (tmp_path / "convergence.png").exists()


@pytest.mark.parametrize("env", ["bogus", "cuda"])
def test_device_environment_that_selects_nothing_exits_2(env, tmp_path):
    if env == "cuda" and any(d.platform == "gpu" for d in jax.devices()):
        pytest.skip("a GPU is present")
    proc = subprocess.run([sys.executable, str(ROOT / "experiments" / "attention_cost.py"),
                           "--quick", "--out", str(tmp_path)], capture_output=True, text=True,
                          env={**os.environ, "JAX_PLATFORMS": env, "PYTHONPATH": str(ROOT)},
                          timeout=120)
    assert_clean_error(proc.returncode, proc.stderr, 2, f"JAX_PLATFORMS={env!r}")


@pytest.mark.parametrize("argv, needle", [
    (["--vocab-size", "2147483647"], "needs about"),
    (["--corpus-size", "2147483647"], "needs about"),
    (["--epochs", "2147483647"], "int32 step counter"),
    (["--epochs", "99999999999"], "--epochs"),
    (["--lr", "inf"], "--lr"),
    (["--lr", "nan"], "--lr"),
])
def test_convergence_refuses_what_cannot_run(argv, needle, capsys, tmp_path):
    code, _, err = run("convergence", argv + ["--out", str(tmp_path)], capsys)
    assert_clean_error(code, err, 2, needle)


def test_replicate_quick_honours_explicit_seeds():
    assert script("replicate").parse(["--quick", "--seeds", "5"]).seeds == 5
    assert script("replicate").parse(["--quick"]).seeds == 2
    assert script("replicate").parse([]).seeds == 8


def _sparse_result(path, seeds=(0, 1), tasks=("random",)):
    path.write_text(json.dumps({"seeds": list(seeds), "results": {t: {} for t in tasks}}))
    return str(path)


@pytest.mark.parametrize("case, needle", [
    ("missing", "cannot read"), ("garbage", "not valid JSON"),
    ("seeds", "only runs of the same seeds merge"), ("twice", "is in both"),
])
@pytest.mark.parametrize("name, flag", [("replicate", "--sparse"),
                                        ("sparse_attention", "--from-json")])
def test_merging_sparse_results_refuses_bad_or_mismatched_files(name, flag, case, needle,
                                                                 capsys, tmp_path):
    a = _sparse_result(tmp_path / "a.json")
    b = {"missing": str(tmp_path / "nope.json"),
         "garbage": str((tmp_path / "g.json").write_text("{") and tmp_path / "g.json"),
         "seeds": _sparse_result(tmp_path / "b.json", seeds=(5, 6), tasks=("copy",)),
         "twice": _sparse_result(tmp_path / "c.json")}[case]
    t0 = time.perf_counter()
    code, _, err = run(name, ["--quick", flag, a, b, "--out", str(tmp_path / "o")], capsys)
    assert_clean_error(code, err, 2, needle)
    assert time.perf_counter() - t0 < 5  # before any training


def test_replicate_divergence_keeps_finished_presets(monkeypatch, capsys, tmp_path):
    from jaxbespoke.utils.errors import TrainingDiverged

    mod = script("replicate")
    finished = {"final": {"standard": np.array([3.0, 3.1])},
                "corrected": {"standard": np.array([2.9, 3.0])}}
    monkeypatch.setattr(mod.runs, "run_focused", lambda *a, **k: finished)

    def diverge(name, *a, **k):
        raise TrainingDiverged(f"{name}: training loss became NaN/inf in epoch 3 for seed(s) [1]",
                               epoch=2, seeds=[1], partial=History(seeds=[0, 1]))

    monkeypatch.setattr(mod.runs, "run_preset", diverge)
    (tmp_path / "REPLICATION.md").write_text("# an earlier run")
    (tmp_path / "replication_ratios.png").write_bytes(b"old")
    code, _, err = run("replicate", ["--quick", "--presets", "focused,quick", "--no-progress",
                                     "--out", str(tmp_path)], capsys)
    assert code == 1 and "Traceback" not in err and "quick: training loss" in err
    d = json.loads((tmp_path / "replication.json").read_text())
    assert d["status"] == "diverged" and d["diverged"]["epoch"] == 3
    assert d["completed_models"]["focused"]["final"]["standard"] == [3.0, 3.1]
    assert "DIVERGED" in (tmp_path / "REPLICATION.md").read_text()
    assert not (tmp_path / "replication_ratios.png").exists()


@pytest.mark.parametrize("name, argv, needle", [
    ("sparse_attention", ["--seeds", "2000000000"], "at most 10,000 seeds"),
    ("sparse_attention", ["--seeds", "10000"], "needs about"),
    ("sparse_attention", ["--top-k", "1000"], "top-k 1000"),
    ("embedding_strategies", ["--seeds", "10000"], "needs about"),
    ("embedding_strategies", ["--text", "/nonexistent/corpus.txt"], "does not exist"),
])
def test_sizes_that_cannot_run_are_refused_before_training(name, argv, needle, capsys,
                                                           tmp_path, monkeypatch):
    from jaxbespoke.utils import errors

    monkeypatch.setattr(errors, "memory_bytes", lambda: 2**30)  # the same on every machine
    code, _, err = run(name, ["--quick", "--no-progress", "--out", str(tmp_path)] + argv, capsys)
    assert_clean_error(code, err, 2, needle)


def test_training_longer_than_the_int32_step_counter_is_refused():
    from jaxbespoke.training.train import TrainConfig

    with pytest.raises(ConfigError, match="int32 step counter"):
        TrainConfig(epochs=2**31 - 1, steps_per_epoch=2)
