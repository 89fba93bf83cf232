"""Output folders: checked before any compute, locked against a second run, kept consistent.

`prepare(out)` runs straight after device.setup (before any compute): it creates the folder, proves it is
writable, and takes an exclusive lock (a `.jaxbespoke.lock` file, flock'ed for the life of the
process: a killed run leaves no stale lock). A second run on the same folder is refused at once
with a ConfigError naming the holder. `retire(out, owned, written)` removes an experiment's older
files that the current run did not rewrite, so a folder never mixes two runs (e.g. a diverged
run's JSON next to an earlier run's plot). `file_mode()` is what written files get: 0666 less
the user's umask, as `open()` would give (temporary-file helpers create 0600 files).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from jaxbespoke.utils.errors import ConfigError

LOCK_NAME = ".jaxbespoke.lock"
_HELD: dict[str, object] = {}     # resolved lock path -> open file holding the lock


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def file_mode() -> int:
    return 0o666 & ~_umask()


def prepare(out, *, flag: str = "--out", lock: bool = True) -> Path:
    """Create `out`, check that files can be written there, and lock it; ConfigError if not."""
    out = Path(out)
    from jaxbespoke.utils.parallel import is_writer

    if not is_writer():  # in a run of several processes only process 0 writes (and locks)
        return out
    if out.exists() and not out.is_dir():
        raise ConfigError(f"{flag} {out} is an existing file, not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ConfigError(f"{flag} {out}: cannot create the folder ({e.strerror})") from None
    try:
        fd, tmp = tempfile.mkstemp(dir=out, prefix=".write-test.")
        os.close(fd)
        os.unlink(tmp)
    except OSError as e:
        raise ConfigError(f"{flag} {out} is not writable ({e.strerror})") from None
    if lock:
        acquire(out / LOCK_NAME, f"{flag} {out}")
    return out


def acquire(lock_path, what: str) -> None:
    """Hold an exclusive flock on `lock_path` until the process exits (re-entrant)."""
    import fcntl

    lock_path = Path(lock_path)
    key = str(lock_path.resolve())
    if key in _HELD:
        return
    try:
        f = open(lock_path, "a+")
    except OSError as e:
        raise ConfigError(f"{what}: cannot create the lock file {lock_path} ({e.strerror})") from None
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        f.seek(0)
        holder = f.read().strip() or "another process"
        f.close()
        raise ConfigError(f"{what} is in use by another run ({holder}); wait for it to finish "
                          "or choose another folder") from None
    f.seek(0)
    f.truncate()
    f.write(f"pid {os.getpid()}\n")
    f.flush()
    _HELD[key] = f


def release(lock_path) -> None:
    f = _HELD.pop(str(Path(lock_path).resolve()), None)
    if f is not None:
        f.close()


def release_folder(out) -> None:
    release(Path(out) / LOCK_NAME)


def retire(out, owned, written) -> list[str]:
    """Delete the files among `owned` (names in `out`) that this run did not write; returns
    their names. Keeps a folder's files from contradicting each other."""
    gone = []
    keep = {Path(w).name for w in written}
    for name in owned:
        p = Path(out) / name
        if name not in keep and p.is_file():
            p.unlink()
            gone.append(name)
    return gone
