"""Seeds across devices and processes give the numbers of one device; the shared flags, the
compilation cache and its quiet loader behave as documented.

Several CPU devices and several processes must be fixed before JAX starts, so those runs happen in
fresh processes (tests/parallel_worker.py)."""

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from jaxbespoke.utils import cli, compile_cache, device, parallel
from jaxbespoke.utils.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
WORKER = ROOT / "tests" / "parallel_worker.py"
# float32 rounding of the same per-seed computation vectorised over another number of seeds
TOL = dict(rtol=1e-5, atol=2e-6)


def _env(**extra):
    env = dict(os.environ, PYTHONPATH=str(ROOT), JAX_PLATFORMS="cpu")
    env.pop("XLA_FLAGS", None)
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def four_devices(tmp_path_factory):
    """One process with 4 CPU devices: every run on 1 device, then on all 4."""
    out = tmp_path_factory.mktemp("four") / "r.npz"
    env = _env(XLA_FLAGS="--xla_force_host_platform_device_count=4")
    subprocess.run([sys.executable, str(WORKER), str(out), "--devices", "1,4"], env=env,
                   check=True, timeout=2400)
    return dict(np.load(out)), json.loads(out.with_suffix(".json").read_text())


def _compare(a: dict, b: dict, pa: str, pb: str) -> float:
    keys = sorted(k[len(pb):] for k in b if k.startswith(pb))
    assert keys and all(pa + k in a for k in keys)
    worst = 0.0
    for k in keys:
        x, y = a[pa + k], b[pb + k]
        assert x.shape == y.shape, k
        np.testing.assert_allclose(x, y, err_msg=k, **TOL)
        worst = max(worst, float(np.abs(x - y).max()))
    return worst


@pytest.mark.slow
def test_four_devices_give_the_numbers_of_one(four_devices):
    res, splits = four_devices
    worst = _compare(res, res, "1/", "4/")
    print(f"max |4 devices - 1 device| = {worst:.2e}")
    # 5 seeds: 3 devices of 2 (the last slot repeats seed 7); 3 seeds: 3 devices of 1
    p = splits["4/pooled"]
    assert (p["devices"], p["seeds_per_device"], p["padding"]) == (3, 2, 1)
    assert [d["seeds"] for d in p["per_device"]] == [[3, 4], [5, 6], [7]]
    assert (splits["4/preset"]["devices"], splits["4/preset"]["padding"]) == (3, 0)
    assert splits["1/pooled"]["devices"] == 1
    # seeds are not interchangeable: a shuffled or shifted layout would not pass the comparison
    v = res["1/pooled/bespoke/val_full"]
    assert np.abs(v[1:] - v[:-1]).min() > 100 * TOL["atol"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_two_processes_give_the_numbers_of_one(four_devices, tmp_path):
    """Two processes with one CPU device each, joined by jax.distributed (gloo collectives).
    The 50-epoch protocol only (compile time); the encoder preset with checkpoints was checked
    the same way by hand."""
    res, _ = four_devices
    out = tmp_path / "r.npz"
    addr = f"127.0.0.1:{_free_port()}"
    procs = [subprocess.Popen([sys.executable, str(WORKER), str(out), "--coordinator", addr,
                               "--num-processes", "2", "--process-id", str(i),
                               "--what", "pooled"], env=_env(),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for i in range(2)]
    logs = []
    for p in procs:
        try:
            logs.append(p.communicate(timeout=2400)[0])
        finally:
            p.kill()
    assert [p.returncode for p in procs] == [0, 0], "\n".join(logs)[-3000:]
    two = dict(np.load(out))
    splits = json.loads(out.with_suffix(".json").read_text())
    worst = _compare(res, two, "1/", "all/")
    print(f"max |2 processes - 1 process| = {worst:.2e}")
    p = splits["all/pooled"]
    assert (p["devices"], p["processes"], p["seeds_per_device"], p["padding"]) == (2, 2, 3, 1)
    assert [d["process"] for d in p["per_device"]] == [0, 1]


# --------------------------------------------------------------------------- in this process
class Dev(SimpleNamespace):
    platform = "cpu"

    def __str__(self):
        return f"cpu:{self.id}"


def test_split_layout_and_summary():
    devs = tuple(Dev(id=i, process_index=0) for i in range(4))
    s = parallel.SeedSplit(7, devs, 1)
    assert (s.per_device, s.padded, s.pad, s.single) == (2, 8, 1, False)
    d = s.describe([10, 11, 12, 13, 14, 15, 16])
    assert [b["seeds"] for b in d["per_device"]] == [[10, 11], [12, 13], [14, 15], [16]]
    assert parallel.summary(d) == ("7 seeds over 4 devices: 2 per device "
                                   "(1 padding slot repeat the last seed)")
    assert parallel.SeedSplit(3, devs[:1], 1).single
    assert parallel.summary(parallel.SeedSplit(3, devs[:1], 1).describe()) == "3 seeds on 1 device"


@pytest.mark.parametrize("seeds,cores,want", [(16, 2, 2), (16, 6, 4), (7, 2, 1), (1, 8, 1),
                                               (8, 16, 8), (12, 5, 4), (3, 1, 1)])
def test_default_cpu_devices_divide_the_seeds_up_to_the_cores(seeds, cores, want):
    assert parallel.default_cpu_devices(seeds, cores) == want


def test_entry_points_make_one_cpu_device_per_core_the_seeds_divide_over():
    """A fresh process with no --devices: setup makes parallel.default_cpu_devices(4) CPU devices
    (depends on this machine's cores); --devices 1 keeps one."""
    code = ("import sys; from jaxbespoke.utils import cli, device, parallel; "
            "i = device.setup(cli.parser('x', 'd').parse_args(sys.argv[1:])); "
            "print(i['count'], i['seed_split']['devices'], parallel.default_cpu_devices(4))")
    for extra, want in (([], None), (["--devices", "1"], 1)):
        out = subprocess.run([sys.executable, "-c", code, "--seeds", "4", "--device", "cpu",
                              *extra], env=_env(), capture_output=True, text=True, check=True)
        count, used, default = map(int, out.stdout.split())
        assert count == used == (want or default), out.stdout


def test_single_device_split_is_the_identity():
    s = parallel.split(4)
    assert s.single and s.n_devices == 1
    x = {"a": np.arange(8.0).reshape(4, 2)}
    assert s.put(x) is x and s.gather(x) is x and s.abstract(x) is x
    f = lambda a: a  # noqa: E731
    assert s.map(f, 1) is f


def test_more_devices_than_present_is_a_clear_error():
    try:
        parallel.configure(64)
        with pytest.raises(ConfigError, match="asked for 64 devices but this process has 1 cpu"):
            parallel.split(4)
    finally:
        parallel.configure(None)


@pytest.mark.parametrize("flags, env, expect", [
    ((None, None, None), {}, None),
    (("h:1", 2, 1), {}, {"coordinator_address": "h:1", "num_processes": 2, "process_id": 1}),
    ((None, None, None), {"JAX_COORDINATOR_ADDRESS": "h:2", "JAX_NUM_PROCESSES": "3",
                          "JAX_PROCESS_ID": "0"},
     {"coordinator_address": "h:2", "num_processes": 3, "process_id": 0}),
    ((None, None, None), {"SLURM_NTASKS": "4"}, {}),
    ((None, None, None), {"SLURM_NTASKS": "1"}, None),
])
def test_distributed_settings(monkeypatch, flags, env, expect):
    for k in ("JAX_COORDINATOR_ADDRESS", "JAX_NUM_PROCESSES", "JAX_PROCESS_ID", "SLURM_NTASKS",
              "OMPI_COMM_WORLD_SIZE"):
        monkeypatch.delenv(k, raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    assert parallel.distributed_settings(*flags) == expect


@pytest.mark.parametrize("flags, match", [
    (("h:1", 2, None), "missing --process-id"),
    ((None, 2, 0), "missing --coordinator"),
    (("h:1", 2, 2), "process id 2 must lie in 0..1"),
])
def test_distributed_settings_errors(monkeypatch, flags, match):
    for k in ("JAX_COORDINATOR_ADDRESS", "JAX_NUM_PROCESSES", "JAX_PROCESS_ID"):
        monkeypatch.delenv(k, raising=False)
    with pytest.raises(ConfigError, match=match):
        parallel.distributed_settings(*flags)


def test_every_entry_point_gets_the_shared_flags():
    a = cli.parser("x", "d").parse_args(["--devices", "2", "--coordinator", "h:1",
                                         "--num-processes", "2", "--process-id", "1",
                                         "--no-compile-cache"])
    assert (a.devices, a.coordinator, a.num_processes, a.process_id, a.no_compile_cache) == \
        (2, "h:1", 2, 1, True)
    for script in [p for d in ("experiments", "bench", "jaxbespoke/scripts")
                   for p in sorted((ROOT / d).glob("*.py"))]:
        text = script.read_text()
        if "device.select(" in text or "device.setup(" in text:
            assert "device.setup(args)" in text, script.name
            assert "cli.parser(" in text or "add_scale_flags" in text, script.name


def test_setup_describes_devices_and_seed_split():
    args = cli.parser("x", "d").parse_args(["--seeds", "3", "--seed-base", "5"])
    info = device.setup(args)
    assert info["seed_split"]["per_device"][0]["seeds"] == [5, 6, 7]
    assert info["processes"] == 1
    assert device.banner(info).endswith("; 3 seeds on 1 device")
    # conftest points every entry point at the test cache, never the user's
    assert info["compile_cache"] == os.environ[compile_cache.ENV]


def test_cache_location(monkeypatch, tmp_path):
    monkeypatch.setenv(compile_cache.ENV, "off")
    assert compile_cache.resolve() is None
    monkeypatch.setenv(compile_cache.ENV, str(tmp_path))
    assert compile_cache.resolve() == tmp_path
    assert compile_cache.resolve(disabled=True) is None
    monkeypatch.delenv(compile_cache.ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    d = compile_cache.default_dir()
    assert d.parent == tmp_path / "jaxbespoke" / "jax" and d.name == compile_cache.host_tag()


def test_quiet_loader_drops_only_the_tuning_feature_false_alarm(capfd):
    def line(feature):
        return (f"E0000 00:00:00.0 1 cpu_aot_loader.cc:195] Loading XLA:CPU AOT result. Target "
                f"machine feature {feature} is not  supported on the host machine. Compile "
                f"machine features: [+avx2,{feature}] vs host machine features: [avx2]\n").encode()

    with compile_cache.drop_stderr_lines():
        os.write(2, b"before\n" + line("+prefer-no-gather") + line("+prefer-no-scatter"))
        os.write(2, line("+avx512f") + b"a real error\n")
    err = capfd.readouterr().err
    assert "prefer-no-gather" not in err and "prefer-no-scatter" not in err
    assert "before\n" in err and "a real error\n" in err
    assert re.search(r"feature \+avx512f is not", err)
    assert compile_cache.install_quiet_loader()
    from jax._src import compilation_cache as cc

    assert getattr(cc.get_executable_and_time, "_jaxbespoke_quiet", False)
