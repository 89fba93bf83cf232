"""JAX's persistent compilation cache, on by default, so a second run starts at once.

Where: $JAXBESPOKE_COMPILE_CACHE if set (a folder; 0/off/no/false turns the cache off), else a
folder the user set for JAX itself (JAX_COMPILATION_CACHE_DIR), else the user's cache directory,
$XDG_CACHE_HOME/jaxbespoke/jax or ~/.cache/jaxbespoke/jax, in a subfolder per CPU type (a home
shared by machines with different CPUs must never hand one machine code built for another).
The entry points' --no-compile-cache flag turns it off for one run.

Loading a cached CPU executable makes this jaxlib log, for each "tuning" feature that the
compiler records but the host feature list never contains (+prefer-no-gather,
+prefer-no-scatter), one error line of several thousand characters (jax-ml/jax#38445): a false
alarm, since the executable was built on this very CPU type. `install_quiet_loader` drops exactly
those lines while a cached executable is loaded; a line naming a real instruction-set feature
(+avx512f, ...) and anything else printed meanwhile still reach stderr.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import platform
import re
import sys
import tempfile
import warnings
from pathlib import Path

ENV = "JAXBESPOKE_COMPILE_CACHE"
_OFF = ("0", "off", "no", "false", "none", "")
# every program is cached, however fast it compiles: a run's small init, data and setup jits
# compile in ~0.08 s each but load in ~0.02 s, and the 50-epoch job has ~30 of them (2.6 s)
MIN_COMPILE_S = 0.0
_BENIGN = re.compile(rb"Loading XLA:CPU AOT result\. Target machine feature \+prefer-[\w-]+ is not")


def default_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "jaxbespoke" / "jax" / host_tag()


def host_tag() -> str:
    """machine-<hash of the CPU model and feature flags> (Linux), else machine-<processor>."""
    ident = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as f:
            info = f.read()
        fields = [ln.split(":", 1)[1].strip() for ln in info.splitlines()
                  if ln.startswith(("model name", "flags", "Features", "CPU part"))][:3]
        ident = "|".join(fields) or ident
    except OSError:
        pass
    return f"{platform.machine() or 'cpu'}-{hashlib.sha1(ident.encode()).hexdigest()[:10]}"


def resolve(disabled: bool = False) -> Path | None:
    """The cache folder to use, or None for no cache."""
    if disabled:
        return None
    env = os.environ.get(ENV)
    if env is not None:
        return None if env.strip().lower() in _OFF else Path(env).expanduser()
    import jax

    if jax.config.jax_compilation_cache_dir:
        return Path(jax.config.jax_compilation_cache_dir)
    return default_dir()


def enable(path: Path | None) -> Path | None:
    """Point JAX at `path` (None: turn the cache off). A folder that cannot be created turns the
    cache off with a warning rather than stopping the run."""
    import jax

    if path is None:
        jax.config.update("jax_enable_compilation_cache", False)
        return None
    try:
        Path(path).mkdir(parents=True, exist_ok=True)
    except OSError as e:
        warnings.warn(f"compilation cache disabled: cannot create {path}: {e.strerror}",
                      stacklevel=2)
        jax.config.update("jax_enable_compilation_cache", False)
        return None
    jax.config.update("jax_enable_compilation_cache", True)
    jax.config.update("jax_compilation_cache_dir", str(path))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", MIN_COMPILE_S)
    install_quiet_loader()
    return Path(path)


@contextlib.contextmanager
def drop_stderr_lines(pattern: re.Pattern = _BENIGN):
    """Capture what the process (C++ included) writes to file descriptor 2 inside the block and
    pass it on afterwards, less the lines that match `pattern`."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):   # no usable fd 2: nothing to filter
        yield
        return
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            yield
        finally:
            try:
                sys.stderr.flush()
            except ValueError:
                pass
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            kept = [ln for ln in tmp.read().splitlines(keepends=True) if not pattern.search(ln)]
            if kept:
                os.write(2, b"".join(kept))


def install_quiet_loader() -> bool:
    """Wrap JAX's cache read (the only place a cached executable is loaded) in
    drop_stderr_lines, on CPU. Returns False when this jax has no such function to wrap (the
    lines then stay; nothing else changes)."""
    try:
        from jax._src import compilation_cache as cc
    except ImportError:
        return False
    read = getattr(cc, "get_executable_and_time", None)
    if read is None:
        return False
    if getattr(read, "_jaxbespoke_quiet", False):
        return True

    @functools.wraps(read)
    def quiet_read(cache_key, compile_options, backend, *args, **kwargs):
        if getattr(backend, "platform", None) != "cpu":
            return read(cache_key, compile_options, backend, *args, **kwargs)
        with drop_stderr_lines():
            return read(cache_key, compile_options, backend, *args, **kwargs)

    quiet_read._jaxbespoke_quiet = True
    cc.get_executable_and_time = quiet_read
    return True
