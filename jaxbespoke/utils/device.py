"""Backend choice and reporting.

`select(name)` must run before the first JAX computation when it narrows the platform, which is
why experiments call it straight after parsing flags.
"""

from __future__ import annotations

import os

from jaxbespoke.utils.errors import ConfigError

CHOICES = ("auto", "cpu", "gpu", "metal")
_PLATFORM = {"cpu": "cpu", "gpu": "cuda", "metal": "METAL"}


def select(name: str = "auto") -> dict:
    """Make `name` JAX's default device and describe it; a clear error if it is not available."""
    import jax

    if name not in CHOICES:
        raise ConfigError(f"unknown device {name!r}; choose one of {', '.join(CHOICES)}")
    try:
        jax.devices()
    except Exception as e:  # noqa: BLE001 - e.g. JAX_PLATFORMS naming an absent backend
        env = os.environ.get("JAX_PLATFORMS")
        why = (str(e).strip().splitlines() or [""])[0] or "JAX found no such device"
        raise ConfigError((f"JAX_PLATFORMS={env!r} selects no usable backend: " if env else
                           "no usable JAX backend: ") + why) from None
    if name == "auto":
        dev = jax.devices()[0]
    else:
        try:
            devs = jax.devices(_PLATFORM[name])
        except (RuntimeError, AssertionError):  # AssertionError: excluded by JAX_PLATFORMS
            devs = []
        if not devs:
            have = ", ".join(sorted({d.platform for d in jax.devices()}))
            hint = {"gpu": "install jax[cuda12] or jax[cuda13] on a machine with an NVIDIA GPU",
                    "metal": "install a Metal PJRT plugin (jax-metal, best effort)",
                    "cpu": ""}[name]
            raise ConfigError(f"device {name!r} is not available (JAX sees: {have})"
                              + (f"; {hint}" if hint else ""))
        dev = devs[0]
    jax.config.update("jax_default_device", dev)
    return describe(dev)


def setup(args) -> dict:
    """What every entry point does first, from the shared flags (cli.parser): the compilation
    cache, joining other processes, the device count, then select(args.device). Must run before
    the first JAX computation. Returns select's description plus how args.seeds seeds are laid
    out over devices and processes (for the banner and the result JSON)."""
    from jaxbespoke.utils import compile_cache, parallel

    flag = lambda name, default=None: getattr(args, name, default)  # noqa: E731
    settings = parallel.distributed_settings(flag("coordinator"), flag("num_processes"),
                                             flag("process_id"))
    cache = compile_cache.enable(compile_cache.resolve(flag("no_compile_cache", False)))
    base = flag("seed_base", 0) or 0
    seeds = list(range(base, base + (flag("seeds", 1) or 1)))
    if flag("device", "auto") in ("auto", "cpu"):
        # unset on one host: one CPU device per core the seeds divide over (parallel.py)
        n = flag("devices") or (None if settings else parallel.default_cpu_devices(len(seeds)))
        if n:
            _cpu_device_count(n)
    parallel.initialize(settings)
    info = select(flag("device", "auto"))
    parallel.configure(flag("devices"))
    split = parallel.split(len(seeds))
    import jax

    info.update(processes=jax.process_count(), process_id=jax.process_index(),
                seed_split=split.describe(seeds),
                compile_cache=None if cache is None else str(cache))
    return info


def _cpu_device_count(n: int) -> None:
    """Give the CPU backend n devices, unless it already started or the user fixed the count."""
    import jax
    from jax._src import xla_bridge

    if (xla_bridge.backends_are_initialized() or jax.config.jax_num_cpu_devices > 0
            or "xla_force_host_platform_device_count" in os.environ.get("XLA_FLAGS", "")):
        return
    jax.config.update("jax_num_cpu_devices", n)


def describe(dev=None) -> dict:
    import jax

    dev = dev or jax.devices()[0]
    return {
        "backend": dev.platform,
        "device": str(getattr(dev, "device_kind", dev)),
        "count": len(jax.devices(dev.platform)),
        "jax": jax.__version__,
        "jax_platforms_env": os.environ.get("JAX_PLATFORMS", ""),
    }


def banner(info: dict) -> str:
    out = (f"JAX {info['jax']} on {info['backend']} ({info['device']}, "
           f"{info['count']} device{'s' if info['count'] != 1 else ''})")
    if info.get("seed_split"):
        from jaxbespoke.utils.parallel import summary

        out += f"; {summary(info['seed_split'])}"
    return out
