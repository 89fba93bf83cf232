"""Result files: JSON (written atomically), Markdown tables, PNG plots."""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path

import numpy as np

from jaxbespoke.utils.outputs import file_mode
from jaxbespoke.utils.parallel import is_writer


def _clean(o):
    if isinstance(o, dict):
        return {str(k): _clean(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_clean(v) for v in o]
    if isinstance(o, np.ndarray):
        return _clean(o.tolist())
    if isinstance(o, (np.floating, float)):
        f = float(o)
        return f if math.isfinite(f) else None
    if isinstance(o, np.integer):
        return int(o)
    return o


def write_atomic(path: Path, text: str) -> None:
    """Write via a temporary file and rename: an interrupted run never leaves half a file.
    In a run of several processes only process 0 writes."""
    if not is_writer():
        return
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.chmod(tmp, file_mode())  # mkstemp makes 0600; give what open() would (umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: Path, obj) -> None:
    write_atomic(path, json.dumps(_clean(obj), indent=2) + "\n")


def write_result(out: Path, name: str, result, markdown: str) -> None:
    """An experiment's two text outputs: NAME.json (tidy data) and NAME.md (the readable report)."""
    write_json(Path(out) / f"{name}.json", result)
    write_atomic(Path(out) / f"{name}.md", markdown)


def md_table(header: list[str], rows: list[list]) -> str:
    def cell(x):
        if isinstance(x, float):
            return f"{x:.4f}"
        return str(x)

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def fmt_ci(s: dict, digits: int = 4) -> str:
    lo, hi = s["ci95"]
    return f"{s['mean']:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]"


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def curves_on(ax, curves: dict, *, xlabel: str, ylabel: str, title: str,
              hlines: dict | None = None, points: dict | None = None) -> None:
    """curves: label -> (x, values_SX); draws the seed mean and, with 4 or more seeds, a 95%
    bootstrap percentile band of the mean (it never leaves the range of the seeds' values)."""
    from jaxbespoke.utils.stats import MIN_INTERVAL_N, bootstrap_mean_interval

    for label, (x, v) in curves.items():
        v = np.asarray(v, np.float64)
        m = v.mean(0)
        ax.plot(x, m, label=label)
        if v.shape[0] >= MIN_INTERVAL_N:
            band = np.array([bootstrap_mean_interval(v[:, j], n_boot=2000)
                             for j in range(v.shape[1])])
            ax.fill_between(x, band[:, 0], band[:, 1], alpha=0.25)
        elif v.shape[0] > 1:
            ax.plot(np.broadcast_to(x, v.shape).T, v.T, lw=0.6, alpha=0.5, color="gray")
    for label, (x, y) in (points or {}).items():
        ax.scatter(x, y, marker="x", zorder=5, label=label)
    for label, y in (hlines or {}).items():
        ax.axhline(y, ls="--", lw=1, color="k", label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7)


def strips_on(ax, groups: dict, *, ylabel: str, title: str, marks: dict | None = None) -> None:
    """One column of per-seed dots per group with its mean and 95% CI; marks: label -> y line."""
    for i, v in enumerate(groups.values()):
        v = np.asarray(v, np.float64)
        jitter = (np.arange(v.size) / max(v.size - 1, 1) - 0.5) * 0.3
        ax.scatter(i + jitter, v, s=12, alpha=0.6)
        if v.size > 1:
            from jaxbespoke.utils.stats import mean_ci

            s = mean_ci(v)
            ax.errorbar(i + 0.3, s["mean"], yerr=[[s["mean"] - s["ci95"][0]], [s["ci95"][1] - s["mean"]]],
                        fmt="o", color="k", capsize=4)
    for j, (label, y) in enumerate((marks or {}).items()):
        ax.axhline(y, ls=["--", ":", "-."][j % 3], lw=1, color="k", label=label)
    ax.set_xticks(range(len(groups)), list(groups), fontsize=8)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    if marks:
        ax.legend(fontsize=7)


def save(fig, path: Path) -> None:
    if not is_writer():
        _plt().close(fig)
        return
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            fig.savefig(f, dpi=120, format=path.suffix.lstrip(".") or "png")
        os.chmod(tmp, file_mode())
        os.replace(tmp, path)  # atomic, like the text outputs
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    finally:
        _plt().close(fig)


def plot_curves(path: Path, curves: dict, *, xlabel: str, ylabel: str, title: str,
                hlines: dict | None = None, points: dict | None = None) -> None:
    fig, ax = _plt().subplots(figsize=(7, 4.2))
    curves_on(ax, curves, xlabel=xlabel, ylabel=ylabel, title=title, hlines=hlines, points=points)
    save(fig, path)


def write_diverged(out: Path, name: str, base: dict, err, owned=(),
                   md_name: str | None = None) -> list[str]:
    """A diverged run's outputs, kept consistent: NAME.json (status 'diverged', where, the
    diverging model's partial history and every model that finished before it) and NAME.md
    saying so; any other file in `owned` left by an earlier run is removed, so the folder never
    mixes this run with an older one. Returns the names written."""
    completed = getattr(err, "completed", None) or {}
    models = completed.get("models", {}) if isinstance(completed, dict) else {}
    partial = err.partial.arrays() if getattr(err, "partial", None) is not None else None
    doc = dict(base, status="diverged",
               diverged={"message": str(err), "epoch": err.epoch + 1, "seeds": err.seeds},
               completed_models=models, timing=completed.get("timing") if models else None,
               partial=partial)
    write_json(Path(out) / f"{name}.json", doc)
    lines = [f"# {name}: DIVERGED", "", f"**{err}** (exit status 1).", "",
             "Nothing below is a result of the full run. Kept in the JSON: the diverging "
             "model's history up to the epoch before (`partial`) and every model that finished "
             "before it (`completed_models`).", ""]
    for kind, m in models.items():
        finals = {k: float(np.mean(v[:, -1])) for k, v in m.get("history", {}).items()
                  if v is not None and np.ndim(v) == 2}
        lines.append(f"- `{kind}` finished" + (": " + ", ".join(
            f"{k} {v:.4f}" for k, v in finals.items()) + " (mean over seeds)" if finals else ""))
    if partial and partial.get("train_loss") is not None:
        lines.append(f"- diverging model: {partial['train_loss'].shape[1]} epoch(s) completed "
                     "before the failure")
    md_name = md_name or f"{name}.md"
    write_atomic(Path(out) / md_name, "\n".join(lines) + "\n")
    written = [f"{name}.json", md_name]
    if is_writer():
        from jaxbespoke.utils.outputs import retire

        retire(out, owned, written)
    return written
