import jax
import numpy as np
import pytest

from jaxbespoke.data import corpus
from jaxbespoke.utils import stats
from jaxbespoke.utils.errors import ConfigError


def test_zipf_probs_and_entropy_floor_match_spec():
    p = corpus.zipf_probs(200, 1.4)
    assert p.sum() == pytest.approx(1.0) and p[0] > p[1] > p[-1]
    assert stats.entropy(p) == pytest.approx(2.9483, abs=1e-4)
    assert stats.surprisal_sd(p) == pytest.approx(2.022, abs=1e-3)
    assert stats.entropy(corpus.zipf_probs(1000, 1.2)) == pytest.approx(4.2275, abs=1e-4)


def test_zipf_corpus_is_deterministic_and_follows_p():
    a = corpus.zipf_corpus(jax.random.key(3), 50, 1.2, 20000)
    b = corpus.zipf_corpus(jax.random.key(3), 50, 1.2, 20000)
    assert (np.asarray(a) == np.asarray(b)).all()
    freq = np.bincount(np.asarray(a), minlength=50) / 20000
    assert np.abs(freq - corpus.zipf_probs(50, 1.2)).max() < 0.02


def test_windows_and_split():
    data = jax.numpy.arange(20)
    x, y = corpus.next_token_batch(data, jax.numpy.array([0, 3]), 4)
    assert x.tolist() == [[0, 1, 2, 3], [3, 4, 5, 6]] and y.tolist() == [4, 7]
    xa, ya = corpus.all_next_token_windows(data, 4)
    assert xa.shape == (16, 4) and ya[-1] == 19
    starts = corpus.sample_starts(jax.random.key(0), 20, 4, 1000)
    assert int(starts.min()) == 0 and int(starts.max()) == 20 - 4 - 2
    tr, va = corpus.split(np.arange(10), 0.8)
    assert tr.tolist() == list(range(8)) and va.tolist() == [8, 9]


def test_bad_corpus_input():
    with pytest.raises(ConfigError, match="too short"):
        corpus.check_windows(10, 16)
    with pytest.raises(ConfigError, match="corpus size"):
        corpus.zipf_corpus(jax.random.key(0), 10, 1.0, 0)
    with pytest.raises(ConfigError, match="found 10"):
        corpus.from_ids([0, 10], 10)
    with pytest.raises(ConfigError, match="found -1"):
        corpus.from_ids([-1, 3], 10)
