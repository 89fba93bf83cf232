"""Checkpoint/resume: a killed run, rerun with the same command, ends with identical numbers; a
checkpoint of another configuration is refused and left untouched."""

from dataclasses import replace

import numpy as np
import pytest

from jaxbespoke.training import checkpoint
from jaxbespoke.protocols import presets
from jaxbespoke.nn.encoders import EncoderConfig
from jaxbespoke.utils.errors import ConfigError

# the definitive preset's protocol (AdamW, cosine per epoch, clip, dropout, compact bespoke
# tables), shrunk to seconds
RUN = replace(presets.get("definitive")[0], name="tiny", vocab=20, dim=16, window=8, batch=4,
              corpus_size=3_000, tiering=presets.RankFractions((0.2, 0.7), unseen=1),
              dims=(24, 16, 8),
              encoder=EncoderConfig(16, 2, 32, 1, positions=8, final_norm=True, init="normal02"),
              optim=replace(presets.get("definitive")[0].optim, cosine_t_max=4),
              epochs=4, steps_per_epoch=5, eval_every=1, val_batches=3)


class Killed(Exception):
    pass


def _run(tmp, run=RUN):
    return presets.run_config(run, [0, 1], kinds=("bespoke",), progress=False, ckpt_dir=tmp)


def _files(path):
    return sorted((str(p.relative_to(path)), p.stat().st_mtime_ns) for p in path.rglob("*"))


@pytest.mark.slow
def test_kill_and_rerun_gives_identical_numbers(tmp_path, monkeypatch):
    ref = presets.run_config(RUN, [0, 1], kinds=("bespoke",), progress=False)["models"]

    save = checkpoint.RunCheckpoint.on_epoch_end

    def kill_after_epoch_2(self, epoch, state, history):
        save(self, epoch, state, history)
        if epoch == 1:
            raise Killed

    monkeypatch.setattr(checkpoint.RunCheckpoint, "on_epoch_end", kill_after_epoch_2)
    with pytest.raises(Killed):
        _run(tmp_path)
    monkeypatch.setattr(checkpoint.RunCheckpoint, "on_epoch_end", save)
    got = _run(tmp_path)["models"]
    m, r = got["bespoke/faithful"], ref["bespoke/faithful"]
    assert m["timing"]["resumed_from_epoch"] == 2
    assert m["eval_epochs"] == r["eval_epochs"] == [0, 1, 2, 3]
    for k in r["curves"]:
        np.testing.assert_array_equal(m["curves"][k], r["curves"][k])
    # a finished run reruns as a no-op that reports the same numbers
    again = _run(tmp_path)["models"]["bespoke/faithful"]
    assert again["timing"]["resumed_from_epoch"] == 4
    np.testing.assert_array_equal(again["final"], r["final"])


def test_other_configuration_is_refused_and_nothing_overwritten(tmp_path):
    _run(tmp_path)
    before = _files(tmp_path)
    other = replace(RUN, optim=replace(RUN.optim, lr=3e-4))
    with pytest.raises(ConfigError, match=r"another configuration .*run\.optim"):
        _run(tmp_path, other)
    with pytest.raises(ConfigError, match="seeds"):
        presets.run_config(RUN, [0, 2], kinds=("bespoke",), progress=False, ckpt_dir=tmp_path)
    assert _files(tmp_path) == before


def test_bad_interval():
    with pytest.raises(ConfigError, match="interval"):
        checkpoint.RunCheckpoint("/tmp/x", {}, every=0)
