"""The README's "Using the library" section runs as written (its python blocks, in order, in one
namespace), and does what it says: the loss falls, the reloaded model equals the trained one, the
state dict has the keys the text names."""

import re
from pathlib import Path

import numpy as np
import pytest
from flax import nnx

README = Path(__file__).resolve().parents[1] / "README.md"
SECTION = "## Using the library"


def blocks() -> list[str]:
    text = README.read_text()
    assert SECTION in text, f"README has no {SECTION!r} section"
    section = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    found = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert found, "the section has no python code block"
    return found


def test_readme_library_example_runs(tmp_path, monkeypatch):
    pytest.importorskip("torch")          # the conversion step needs the torch extra
    monkeypatch.chdir(tmp_path)
    ns: dict = {"__name__": "readme"}
    for code in blocks():
        exec(compile(code, str(README), "exec"), ns)
    assert ns["losses"][-1] < ns["losses"][0] - 0.1, ns["losses"]
    trained, restored = nnx.state(ns["model"]), nnx.state(ns["restored"])
    flat_r = dict(nnx.to_flat_state(restored))
    for path, var in nnx.to_flat_state(trained):
        np.testing.assert_array_equal(np.asarray(flat_r[path][...]), np.asarray(var[...]))
    sd = ns["state_dict"]
    assert "embed.tiers.0_high.table.weight" in sd and "mix.weight" in sd
    np.testing.assert_array_equal(sd["mix.weight"].numpy(),
                                  np.asarray(ns["model"].mix.kernel[...]).T)
    # the sparse attention block: distillation lowers its loss, the layer keeps the input's shape
    assert ns["distill_losses"][-1] < 0.8 * ns["distill_losses"][0], ns["distill_losses"]
    assert ns["y_BTD"].shape == ns["x_BTD"].shape
    assert np.isfinite(np.asarray(ns["y_BTD"])).all()
