"""Seeds across devices and processes.

The engine trains every seed in one program, the seeds being a `vmap` axis. With several devices
that axis is cut into equal blocks, one per device, by `jax.shard_map` over a one-axis mesh
('seeds'): each device runs the very same vmapped program on its block and no device talks to
another while training, so a seed's numbers do not depend on how many devices ran (up to float32
rounding, where XLA vectorises a smaller batch differently).

A seed count that does not divide the device count is padded: the last seed is repeated into the
empty slots and every result is cut back to the real seeds (the padding costs compute, never
changes a number). The engine's inputs and outputs stay unpadded and seed-major, so checkpoints,
results and callers are the same whatever the device count.

Several processes (hosts) join with `jax.distributed`; every process builds the same per-seed
inputs (cheap, deterministic), trains only the seeds of its own devices, and results are gathered
so that every process holds all of them; process 0 writes the files (`is_writer`).

With one device and one process every function here is the identity: the single-device program
is exactly the one compiled before this module existed (bit-identical numbers).
"""

from __future__ import annotations

import math
import os
import sys
from dataclasses import dataclass

import numpy as np

from jaxbespoke.utils.errors import ConfigError

AXIS = "seeds"
_CONFIG: dict = {"devices": None}   # None: every local device of the default backend


# --------------------------------------------------------------------------- processes
def distributed_settings(coordinator=None, num_processes=None, process_id=None) -> dict | None:
    """What `jax.distributed.initialize` should be called with, or None for one process.

    Flags win over the environment: JAX_COORDINATOR_ADDRESS / JAX_NUM_PROCESSES / JAX_PROCESS_ID,
    else a scheduler that JAX detects itself (SLURM with more than one task, Open MPI)."""
    env = os.environ
    coordinator = coordinator or env.get("JAX_COORDINATOR_ADDRESS") or None
    if num_processes is None and env.get("JAX_NUM_PROCESSES"):
        num_processes = _env_int("JAX_NUM_PROCESSES", 1)
    if process_id is None and env.get("JAX_PROCESS_ID"):
        process_id = _env_int("JAX_PROCESS_ID", 0)
    if coordinator or num_processes is not None or process_id is not None:
        if num_processes == 1 and not coordinator:
            return None
        missing = [n for n, v in (("--coordinator", coordinator),
                                  ("--num-processes", num_processes),
                                  ("--process-id", process_id)) if v is None]
        if missing:
            raise ConfigError(f"several processes need --coordinator, --num-processes and "
                              f"--process-id (or JAX_COORDINATOR_ADDRESS, JAX_NUM_PROCESSES, "
                              f"JAX_PROCESS_ID); missing {', '.join(missing)}")
        if not 0 <= process_id < num_processes:
            raise ConfigError(f"process id {process_id} must lie in 0..{num_processes - 1}")
        return {"coordinator_address": coordinator, "num_processes": num_processes,
                "process_id": process_id}
    if _env_int("SLURM_NTASKS", 1) > 1 or _env_int("OMPI_COMM_WORLD_SIZE", 1) > 1:
        return {}   # JAX reads the scheduler's variables itself
    return None


def _env_int(name: str, default: int) -> int:
    text = os.environ.get(name, "")
    try:
        return int(text) if text else default
    except ValueError:
        raise ConfigError(f"environment variable {name} must be a whole number, "
                          f"got {text!r}") from None


def initialize(settings: dict | None) -> None:
    """Join the other processes (must run before JAX touches a device). CPU collectives (needed
    to gather results on CPU-only clusters) use gloo, the default of the installed jax."""
    if settings is None:
        return
    import jax
    from jax._src import distributed

    if distributed.global_state.client is not None:
        return   # already joined (a second entry point in the same process)
    jax.distributed.initialize(**settings)


def process_index() -> int:
    if "jax" not in sys.modules:
        return 0
    import jax

    return jax.process_index()


def is_writer() -> bool:
    """Only process 0 writes result files and plots."""
    return process_index() == 0


# --------------------------------------------------------------------------- devices
def configure(devices: int | None) -> None:
    """Use the first `devices` local devices of the default backend (None: all of them)."""
    if devices is not None and devices < 1:
        raise ConfigError(f"--devices must be >= 1, got {devices}")
    _CONFIG["devices"] = devices


def usable_cores() -> int:
    """CPU cores this process may run on (its affinity mask where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def default_cpu_devices(n_seeds: int, cores: int | None = None) -> int:
    """How many CPU devices to make when --devices is not given: the largest divisor of the seed
    count that is at most the usable cores. XLA:CPU runs most of these small programs on about one
    core per device, so seeds split over per-core devices train in parallel (the 16-seed main job
    trains 1.5-2x faster on two cores than on one device); a divisor means no padded seeds."""
    cores = usable_cores() if cores is None else cores
    return max(d for d in range(1, max(1, min(cores, n_seeds)) + 1) if n_seeds % d == 0)


def default_platform() -> str:
    import jax

    dev = jax.config.jax_default_device
    if dev is None:
        return jax.default_backend()
    if isinstance(dev, str):
        return dev
    return dev.platform


def local_devices() -> list:
    """This process's devices that training may use, in order."""
    import jax

    platform = default_platform()
    devs = jax.local_devices(backend=platform)
    want = _CONFIG["devices"]
    if want is None:
        return devs
    if want > len(devs):
        hint = (" (for CPU devices start with --device cpu --devices N, or set "
                "XLA_FLAGS=--xla_force_host_platform_device_count=N before JAX starts)"
                if platform == "cpu" else "")
        raise ConfigError(f"asked for {want} devices but this process has {len(devs)} "
                          f"{platform} device{'s' if len(devs) != 1 else ''}{hint}")
    return devs[:want]


def mesh_devices() -> list:
    """Every process's chosen devices (the same number on each), process-major."""
    import jax

    local = local_devices()
    if jax.process_count() == 1:
        return local
    n = len(local)
    by_proc: dict[int, list] = {}
    for d in jax.devices(default_platform()):
        by_proc.setdefault(d.process_index, []).append(d)
    return [d for p in sorted(by_proc) for d in sorted(by_proc[p], key=lambda d: d.id)[:n]]


@dataclass(frozen=True)
class SeedSplit:
    """How S seeds are laid out: `devices` blocks of `per_device` seeds (the last `pad` slots
    repeat the last seed). One process and one device: `single` (no mesh at all)."""

    n_seeds: int
    devices: tuple
    processes: int

    @property
    def n_devices(self) -> int:
        return len(self.devices)

    @property
    def per_device(self) -> int:
        return -(-self.n_seeds // self.n_devices)

    @property
    def padded(self) -> int:
        return self.per_device * self.n_devices

    @property
    def pad(self) -> int:
        return self.padded - self.n_seeds

    @property
    def single(self) -> bool:
        return self.n_devices == 1 and self.processes == 1

    def describe(self, seeds=None) -> dict:
        """For banners and result files: who trained which seeds."""
        seeds = list(range(self.n_seeds)) if seeds is None else list(seeds)
        slots = seeds + [None] * self.pad
        blocks = [slots[i * self.per_device:(i + 1) * self.per_device]
                  for i in range(self.n_devices)]
        return {"devices": self.n_devices, "processes": self.processes,
                "platform": self.devices[0].platform, "seeds": self.n_seeds,
                "seeds_per_device": self.per_device, "padding": self.pad,
                "per_device": [{"device": str(d), "process": d.process_index,
                                "seeds": [s for s in b if s is not None],
                                "padding": sum(s is None for s in b)}
                               for d, b in zip(self.devices, blocks)]}

    def summary(self) -> str:
        return summary(self.describe())

    # -- the mesh
    @property
    def mesh(self):
        from jax.sharding import Mesh

        return Mesh(np.array(self.devices), (AXIS,))

    @property
    def sharding(self):
        from jax.sharding import NamedSharding, PartitionSpec as P

        return NamedSharding(self.mesh, P(AXIS))

    def map(self, fn, n_seeded: int, n_shared: int = 0):
        """fn(*seeded, *shared) with seeded args/results cut along their leading (seed) axis:
        each device runs fn on its own block. The identity for a single device."""
        if self.single:
            return fn
        import jax
        from jax.sharding import PartitionSpec as P

        return jax.shard_map(fn, mesh=self.mesh, in_specs=(P(AXIS),) * n_seeded + (P(),) * n_shared,
                             out_specs=P(AXIS), check_vma=False)

    # -- moving data
    def put(self, tree):
        """Seed-major arrays (leading axis S; numpy, local or global jax arrays) -> padded to
        `padded` and cut over the mesh. The identity for a single device."""
        if self.single:
            return tree
        import jax

        return jax.tree.map(self._put_leaf, tree)

    def _put_leaf(self, x):
        import jax

        if _is_key(x):
            return jax.random.wrap_key_data(self._put_leaf(jax.random.key_data(x)),
                                            impl=jax.random.key_impl(x))
        a = to_numpy(x)
        if a.shape[:1] != (self.n_seeds,):
            raise ValueError(f"expected a leading seed axis of {self.n_seeds}, got shape {a.shape}")
        if self.pad:
            a = np.concatenate([a, np.repeat(a[-1:], self.pad, axis=0)])
        return jax.make_array_from_callback(a.shape, self.sharding, lambda idx: a[idx])

    def abstract(self, tree):
        """What `put` would return, as shapes for lowering (no data moved)."""
        if self.single:
            return tree
        import jax

        def leaf(x):
            return jax.ShapeDtypeStruct((self.padded,) + tuple(x.shape[1:]), x.dtype,
                                        sharding=self.sharding)

        return jax.tree.map(leaf, tree)

    def host(self, x) -> np.ndarray:
        """A seed-major result -> numpy with the real seeds only (gathered from every process)."""
        if self.single:
            return np.asarray(x)
        return to_numpy(x)[:self.n_seeds]

    def gather(self, tree):
        """Trained state back in the single-device layout (real seeds, default device; in a
        multi-process run replicated on every device, which orbax checkpoints as usual)."""
        if self.single:
            return tree
        import jax
        from jax.sharding import NamedSharding, PartitionSpec as P, SingleDeviceSharding

        n = self.n_seeds
        whole = jax.jit(lambda t: jax.tree.map(lambda x: x[:n], t),
                        out_shardings=NamedSharding(self.mesh, P()))(tree)
        if self.processes > 1:
            return whole
        return jax.device_put(whole, SingleDeviceSharding(_default_device()))


def summary(d: dict) -> str:
    """One line from SeedSplit.describe()."""
    n, dev, procs, pad = d["seeds"], d["devices"], d["processes"], d["padding"]
    if dev == 1 and procs == 1:
        return f"{n} seed{'s' if n != 1 else ''} on 1 device"
    proc = f" in {procs} processes" if procs > 1 else ""
    pad = (f" ({pad} padding slot{'s' if pad != 1 else ''} repeat the last seed)" if pad else "")
    return f"{n} seeds over {dev} devices{proc}: {d['seeds_per_device']} per device{pad}"


def split(n_seeds: int) -> SeedSplit:
    """The layout of n seeds over the configured devices. One process: as many devices as keep
    the per-device block smallest, then as few as give that block (no device idles on padding
    alone: 5 seeds on 4 devices run as 3 blocks of 2). Several processes: every device."""
    import jax

    devs = mesh_devices()
    procs = jax.process_count()
    if procs == 1:
        per = -(-n_seeds // len(devs))
        devs = devs[:math.ceil(n_seeds / per)]
    return SeedSplit(n_seeds, tuple(devs), procs)


def _default_device():
    import jax

    dev = jax.config.jax_default_device
    if dev is None or isinstance(dev, str):
        return jax.local_devices(backend=default_platform())[0]
    return dev


def _is_key(x) -> bool:
    import jax

    return hasattr(x, "dtype") and jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key)


def to_numpy(x) -> np.ndarray:
    """Any array -> numpy, the whole global value even when other processes hold parts of it."""
    import jax

    if not isinstance(x, jax.Array) or x.is_fully_addressable:
        return np.asarray(x)
    if x.is_fully_replicated:
        return np.asarray(x.addressable_data(0))
    from jax.experimental import multihost_utils

    return np.asarray(multihost_utils.process_allgather(x, tiled=True))
