# week 29 rouge: pass (n-gram counts in plain dicts, LCS by a full (m+1) x (n+1) table, F1 as the harmonic mean 1 / mean(1/P, 1/R))
def _counts(tokens, n):
    counts: dict[str, int] = {}
    for i in range(len(tokens) - n + 1):
        gram = " ".join(tokens[i : i + n])
        counts[gram] = counts.get(gram, 0) + 1
    return counts


def _prf(overlap, n_cand, n_ref):
    p = overlap / n_cand if n_cand else 0.0
    r = overlap / n_ref if n_ref else 0.0
    f1 = 2 / (1 / p + 1 / r) if p > 0 and r > 0 else 0.0
    return p, r, f1


def rouge_n(candidate, reference, n):
    cand, ref = _counts(candidate, n), _counts(reference, n)
    overlap = sum(min(c, ref.get(g, 0)) for g, c in cand.items())
    return _prf(overlap, sum(cand.values()), sum(ref.values()))


def rouge_l(candidate, reference):
    m, k = len(candidate), len(reference)
    table = [[0] * (k + 1) for _ in range(m + 1)]
    for i in range(1, m + 1):
        for j in range(1, k + 1):
            if candidate[i - 1] == reference[j - 1]:
                table[i][j] = table[i - 1][j - 1] + 1
            else:
                table[i][j] = max(table[i - 1][j], table[i][j - 1])
    return _prf(table[m][k], m, k)
