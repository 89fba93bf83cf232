import os
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")
ROOT = Path(__file__).resolve().parents[1]

import jax  # noqa: E402  (after MPLBACKEND)

# Tests compile many small identical programs; a persistent cache turns repeats into hits. Never
# the user's own cache (entry points enable one by default: the variable reaches subprocesses).
os.environ["JAXBESPOKE_COMPILE_CACHE"] = str(ROOT / ".pytest_cache" / "jax")
jax.config.update("jax_compilation_cache_dir", str(ROOT / ".pytest_cache" / "jax"))
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)
