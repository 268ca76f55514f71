"""How well can the models we ship choose the unit that answers? The measured reason behind
the answer figures `make eval` reports short of their targets (docs/evals.md).

The report's ceilings (`evals.metrics.ceiling`) show that the passages an answer is given
usually hold what it should say, and that an oracle choosing among their quotable units would
meet the targets: the loss is in the choice. This measures the choosers we could use, as AUC
against the eval's own on-point labels (`evals.metrics.is_on_point`) over each answer's units:

- `first_pass`: what the composer starts from, the question's cosine to each unit (the packaged
  MiniLM) plus idf-weighted word overlap (`app.answering.compose`);
- `cosine`: MiniLM's cosine alone;
- `fitted`: a logistic regression fitted on the dev split's units and labels (the issue's
  "weights fitted on dev only"), over the cosine, the word overlap, each less its answer's
  best, the passage's rank and the unit's length; judged on the test split's answers, beside
  `first_pass_test`, the first pass on the same answers. (A bilinear term on the two vectors,
  384 features more, overfit the 1,285 dev units: test AUC 0.68-0.74.)
- `llm` (with `--llm N`, on N answers): the packaged SmolLM2-135M asked "Does the sentence
  answer the question?", scored by its "Yes" logit less its "No" logit; `cosine_where_llm` is
  the cosine's on those same answers.

    python -m evals.chooser [--data-dir DIR] [--llm 40]

The labels use the items' key points: this measures and steers nothing.
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Callable
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from app.answering.compose import LEXICAL_WEIGHT
from app.answering.compose import lexical_scores
from app.answering.tutor import Tutor
from app.config import Settings
from app.records.conversations import throwaway_memory
from app.search.retrieval import Retriever
from evals import metrics as m
from evals.datasets import load_dataset
from evals.runner import _similarity
from evals.runner import answer_once
from evals.runner import ensure_index
from evals.runner import index_settings

QUESTION = "Question: {question}\nSentence: {unit}\nDoes the sentence answer the question? Answer Yes or No."


def pairwise_auc(scores: np.ndarray, positive: np.ndarray) -> float | None:
    """The share of (positive, negative) pairs the scores order rightly, ties counting half
    (None without both kinds)."""
    pos, neg = scores[positive], scores[~positive]
    if not len(pos) or not len(neg):
        return None
    wins = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return float(wins / (len(pos) * len(neg)))


def yes_no_scorer(settings: Settings) -> Callable[[str, str], float]:
    """The packaged model's "Yes" logit less its "No" logit after the question and the unit,
    in its chat template."""
    import llama_cpp
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    from app.llm.providers import local_model_path

    llm = llama_cpp.Llama(
        str(local_model_path(settings)), n_ctx=1024, n_threads=2, logits_all=True, verbose=False
    )
    yes, no = (llm.tokenize(w, add_bos=False, special=False)[0] for w in (b"Yes", b"No"))
    # the chat template the model file carries, as create_chat_completion applies it for the
    # product (SmolLM2's adds its own system line)
    template = Jinja2ChatFormatter(
        template=llm.metadata["tokenizer.chat_template"],
        eos_token=llm.detokenize([llm.token_eos()]).decode(),
        bos_token=llm.detokenize([llm.token_bos()]).decode(),
    )

    def score(question: str, unit: str) -> float:
        content = QUESTION.format(question=question, unit=unit[:600])
        text = template(messages=[{"role": "user", "content": content}]).prompt
        llm.reset()  # type: ignore[no-untyped-call]
        llm.eval(llm.tokenize(text.encode(), add_bos=False, special=True))
        logits = llm.scores[llm.n_tokens - 1]
        return float(logits[yes] - logits[no])

    return score


def measure(settings: Settings, llm_answers: int = 0) -> dict[str, float | int | None]:
    """Mean AUC per chooser over the golden answers composed from passages (see above)."""
    index = index_settings(settings, None)
    ensure_index(index, None)
    retriever = Retriever.from_settings(index)
    tutor, embed = Tutor(index, retriever), retriever.embedder.embed
    similarity = _similarity(retriever.embedder)
    items = [i for i in load_dataset() if i.expect == "answer" and i.key_points]
    sampled = {i.id for i in random.Random(7).sample(items, min(llm_answers, len(items)))}
    scorer = yes_no_scorer(settings) if llm_answers else None
    aucs: dict[str, list[float]] = {
        n: [] for n in ("first_pass", "cosine", "llm", "cosine_where_llm")
    }
    top_on_point: list[bool] = []
    # per answer: its split, the fitted chooser's features, the labels, the first pass
    answers: list[tuple[str, np.ndarray, np.ndarray, np.ndarray]] = []
    with throwaway_memory() as memory:
        for item in items:
            generated = answer_once(tutor, item, memory)
            if not generated.answer.grounded or generated.answer.writer == "plan":
                continue
            ranked = m.passage_units(generated.context)
            units = list(ranked)
            if not units:
                continue
            on_point = np.array(
                [m.is_on_point(u, item.key_points, item.reference, similarity) for u in units]
            )
            cosine = (embed([item.asked]) @ embed(units).T)[0]
            lexical = lexical_scores(item.asked, units)
            first_pass = cosine + LEXICAL_WEIGHT * lexical
            features = np.c_[
                cosine,
                lexical,
                cosine - cosine.max(),
                lexical - lexical.max(),
                [ranked[u] / 10 for u in units],
                [len(u) / 500 for u in units],
            ]
            answers.append((item.split, features, on_point, first_pass))
            top_on_point.append(bool(on_point[int(np.argmax(first_pass))]))
            scored = {"first_pass": first_pass, "cosine": cosine}
            if scorer and item.id in sampled:  # with the cosine on the same answers beside it
                scored["llm"] = np.array([scorer(item.asked, u) for u in units])
                scored["cosine_where_llm"] = cosine
            for name, scores in scored.items():
                if (auc := pairwise_auc(scores, on_point)) is not None:
                    aucs[name].append(auc)
    fitted, first_pass_test = fitted_aucs(answers)
    return {
        "answers": len(top_on_point),
        "fitted_test_auc": fitted,
        "first_pass_test_auc": first_pass_test,
        "first_pass_top_on_point": rounded_mean(top_on_point),
        **{f"{n}_auc": rounded_mean(v) for n, v in aucs.items()},
        "llm_answers": len(aucs["llm"]),
    }


def fitted_aucs(
    answers: list[tuple[str, np.ndarray, np.ndarray, np.ndarray]],
) -> tuple[float | None, float | None]:
    """Mean test-split AUC of a logistic regression fitted on the dev split's units, and of the
    first pass on the same test answers (None, None without both splits)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    dev = [a for a in answers if a[0] == "dev"]
    test = [a for a in answers if a[0] == "test"]
    if not dev or not test:
        return None, None
    chooser = make_pipeline(StandardScaler(), LogisticRegression(C=0.01, max_iter=3000))
    chooser.fit(np.vstack([a[1] for a in dev]), np.concatenate([a[2] for a in dev]))
    fitted = [pairwise_auc(chooser.decision_function(a[1]), a[2]) for a in test]
    first = [pairwise_auc(a[3], a[2]) for a in test]
    return rounded_mean(fitted), rounded_mean(first)


def rounded_mean(values: Iterable[float | None]) -> float | None:
    """`evals.metrics.mean` to three places (None: nothing measured)."""
    value = m.mean(values)
    return None if value is None else round(float(value), 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=None, help="where the eval index is")
    parser.add_argument("--llm", type=int, default=0, help="answers the local model scores")
    args = parser.parse_args()
    settings = Settings(data_dir=args.data_dir) if args.data_dir else Settings()
    print(json.dumps(measure(settings, args.llm), indent=2))


if __name__ == "__main__":
    main()
