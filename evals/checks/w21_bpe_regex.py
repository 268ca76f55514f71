# week 21 bpe: pass (Sennrich-style: words as space-separated symbols, merged with a regex that only matches whole symbols, ties by sorting)
import re
from collections import defaultdict


def get_stats(vocab):
    pairs: defaultdict[tuple[str, str], int] = defaultdict(int)
    for word, freq in vocab.items():
        symbols = word.split()
        for i in range(len(symbols) - 1):
            pairs[symbols[i], symbols[i + 1]] += freq
    return pairs


def merge_vocab(pair, vocab):
    pattern = re.compile(r"(?<!\S)" + re.escape(" ".join(pair)) + r"(?!\S)")
    return {pattern.sub("".join(pair), word): freq for word, freq in vocab.items()}


def bpe_merges(words, n_merges):
    vocab = {" ".join(word): freq for word, freq in words.items()}
    merges = []
    for _ in range(n_merges):
        pairs = get_stats(vocab)
        if not pairs:
            break
        top = max(pairs.values())
        best = sorted(p for p, c in pairs.items() if c == top)[0]
        merges.append(best)
        vocab = merge_vocab(best, vocab)
    return merges
