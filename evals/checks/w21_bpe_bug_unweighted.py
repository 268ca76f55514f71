# week 21 bpe: fail "the first merge is the most frequent pair" [unweighted counts] (pairs counted once per occurrence, ignoring how often each word occurs)
def bpe_merges(words, n_merges):
    segmented = [list(w) for w in words]
    merges = []
    for _ in range(n_merges):
        counts: dict[tuple[str, str], int] = {}
        for symbols in segmented:
            for pair in zip(symbols, symbols[1:]):
                counts[pair] = counts.get(pair, 0) + 1
        if not counts:
            break
        best = min(counts, key=lambda p: (-counts[p], p))
        merges.append(best)
        for k, symbols in enumerate(segmented):
            out, i = [], 0
            while i < len(symbols):
                if tuple(symbols[i : i + 2]) == best:
                    out.append(best[0] + best[1])
                    i += 2
                else:
                    out.append(symbols[i])
                    i += 1
            segmented[k] = out
    return merges
