# week 29 rouge: fail "ROUGE-N counts clipped n-gram matches" [no clipping] (counts every candidate n-gram found in the reference, however often the reference holds it)
def ngrams(tokens, n):
    return [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]


def scores(overlap, n_cand, n_ref):
    p = overlap / n_cand if n_cand else 0.0
    r = overlap / n_ref if n_ref else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def rouge_n(candidate, reference, n):
    cand, ref = ngrams(candidate, n), ngrams(reference, n)
    overlap = sum(1 for g in cand if g in ref)
    return scores(overlap, len(cand), len(ref))


def rouge_l(candidate, reference):
    prev = [0] * (len(reference) + 1)
    for x in candidate:
        cur = [0]
        for j, y in enumerate(reference):
            cur.append(prev[j] + 1 if x == y else max(prev[j + 1], cur[j]))
        prev = cur
    return scores(prev[-1], len(candidate), len(reference))
