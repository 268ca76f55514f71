"""Evals: the golden set is sound, the metrics are right on hand-worked cases, the report
judges floors and comparisons, and `tutor eval` runs the quick suite end to end."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from app.config import Settings
from app.course.curriculum import load_curriculum
from evals import metrics as m
from evals.datasets import DatasetError
from evals.datasets import EvalItem
from evals.datasets import load_dataset
from evals.judges import LLMJudge
from evals.judges import parse_verdict
from evals.quizzes import distractor_plausibility
from evals.quizzes import duplicates
from evals.quizzes import on_topic
from evals.report import ReportError
from evals.report import check_floors
from evals.report import compare
from evals.report import load_report
from tests.conftest import REPO
from tests.conftest import write

NOTES = REPO / "corpus" / "notes"


def item(**fields) -> EvalItem:
    base = {"id": "x", "kind": "concept", "week": 18, "question": "q", "expect": "answer"}
    return EvalItem.model_validate(base | fields)


def no_meaning(a: list[str], b: list[str]) -> np.ndarray:
    """A similarity that never matches: isolates the word-overlap path."""
    return np.zeros((len(a), len(b)))


# -- the golden set --------------------------------------------------------------------------


def test_the_golden_set_covers_every_planned_week_and_every_kind() -> None:
    items = load_dataset()
    assert len(items) >= 100
    assert {i.kind for i in items} == {
        "concept",
        "plan",
        "followup",
        "multipart",
        "example",
        "out_of_scope",
        "adversarial",
    }
    concept_weeks = {i.week for i in items if i.kind == "concept"}
    assert set(range(1, 49)) <= concept_weeks
    assert any(i.week > 48 for i in items), "months 13-18 are asked about too"


def test_every_golden_source_is_a_real_note_or_plan_entry() -> None:
    curriculum_ids = {f"curriculum/week-{w:02d}" for w in range(1, 49)}
    curriculum_ids |= {f"curriculum/capstone-q{q}" for q in range(1, 5)}
    curriculum_ids |= {f"curriculum/month-{n}" for n in range(13, 19)}
    for entry in load_dataset():
        for source in entry.relevant:
            if source.startswith("notes/"):
                assert (NOTES / source.removeprefix("notes/")).is_file(), (entry.id, source)
            elif source.startswith("curriculum/"):
                assert source in curriculum_ids, (entry.id, source)
        if entry.expect == "answer":
            assert entry.relevant and 2 <= len(entry.key_points) <= 4, entry.id
    assert load_curriculum()  # the plan the ids refer to loads


def test_items_split_stably_into_dev_and_test() -> None:
    items = load_dataset()
    splits = [i.split for i in items]
    assert splits == [i.split for i in load_dataset()]
    assert 0.25 < splits.count("dev") / len(splits) < 0.55


def test_a_bad_dataset_line_names_file_line_and_field(tmp_path: Path) -> None:
    write(
        tmp_path / "a.jsonl",
        '{"id": "a", "kind": "concept", "week": 18, "question": "q", '
        '"expect": "answer"}\n\n{"id": "b", "kind": "concept", "week": 99, "question": "q", '
        '"expect": "answer"}\n',
    )
    with pytest.raises(DatasetError, match=r"a\.jsonl:3: week: .*less than or equal to 72"):
        load_dataset(tmp_path)


def test_duplicate_ids_across_files_are_refused(tmp_path: Path) -> None:
    line = '{"id": "a", "kind": "plan", "week": 1, "question": "q", "expect": "answer"}\n'
    write(tmp_path / "a.jsonl", line)
    write(tmp_path / "b.jsonl", line)
    with pytest.raises(DatasetError, match=r"b\.jsonl:1: id 'a' already used at a\.jsonl:1"):
        load_dataset(tmp_path)


def test_a_follow_up_is_scored_on_its_second_turn_and_quarters_group_weeks() -> None:
    pair = item(
        kind="followup", question="What is momentum?", followup="Why does it help?", week=13
    )
    assert pair.asked == "Why does it help?"
    assert (pair.quarter, item(week=48).quarter, item(week=60).quarter) == ("Q2", "Q4", "M13-18")


# -- metrics, hand-worked ---------------------------------------------------------------------------


def test_a_several_ask_question_is_scored_ask_by_ask() -> None:
    parts = [["features independent given the class"], ["add one to every count", "no zeros"]]
    both = "Features are independent given the class. Add one to every count, so no zeros."
    one = "Features are independent given the class, and they are independent given the class."
    assert m.parts_covered(both, parts, no_meaning) == 1.0
    assert m.parts_covered(one, parts, no_meaning) == 0.5  # however much it says of one ask


def test_the_new_golden_kinds_are_well_formed() -> None:
    items = load_dataset()
    multipart = [i for i in items if i.kind == "multipart"]
    assert len(multipart) >= 15 and all(len(i.parts) >= 2 for i in multipart)
    assert all(sum(i.parts, []) == i.key_points for i in multipart)
    assert len([i for i in items if i.kind == "example"]) >= 12
    assert len([i for i in items if i.kind == "followup"]) >= 30


def test_the_held_out_retrieval_split_is_frozen_and_measured(corpus_index) -> None:
    """Written blind, never tuned on: 60+ questions whose answers live in the public notes.
    Measured here on the bundled corpus alone (the questions a bundled note also answers)."""
    from app.config import Settings
    from app.search.retrieval import Retriever
    from evals.held_out_retrieval import headline
    from evals.held_out_retrieval import held_out_retrieval
    from evals.held_out_retrieval import load_held_out

    split = load_held_out()
    assert len(split) >= 60 and len({q.id for q in split}) == len(split)
    assert all(
        not s.startswith("notes/") or (NOTES / s[6:]).is_file() for q in split for s in q.relevant
    )
    retriever = Retriever.from_settings(Settings(data_dir=corpus_index.data_dir))
    report = held_out_retrieval(retriever)
    assert 20 <= report["questions"] < len(split)  # no public notes: only the bundled ones
    numbers = headline(report)
    assert 0 < numbers["retrieval_held_out_dense_mrr@10"] <= 1
    assert 0 < numbers["retrieval_held_out_mrr@10"] <= 1


def test_retrieval_metrics_on_a_hand_worked_example() -> None:
    qrels = {"q1": ["a"], "q2": ["b"], "q3": []}
    rankings = {"q1": ["x", "a"], "q2": ["y", "z", "w", "v", "u", "b"], "q3": ["a"]}
    scores = m.retrieval_scores(qrels, rankings)
    assert set(scores) == {"q1", "q2"}, "a query with nothing relevant is not judged"
    assert scores["q1"]["hit_rate@5"] == 1.0 and scores["q1"]["mrr@10"] == 0.5
    assert scores["q2"]["hit_rate@5"] == 0.0 and scores["q2"]["mrr@10"] == pytest.approx(1 / 6)


def test_each_query_keeps_its_own_scores_whatever_the_order_of_its_id() -> None:
    """Slices (public, dev, test) are read per query: a score must not move to another id."""
    qrels = {"w10-b": ["a"], "w02-a": ["b"], "w01-c": ["c"]}
    rankings = {"w10-b": ["a"], "w02-a": ["x", "b"], "w01-c": ["x", "y", "z"]}
    scores = m.retrieval_scores(qrels, rankings, ("mrr@10",))
    assert scores == {"w10-b": {"mrr@10": 1.0}, "w02-a": {"mrr@10": 0.5}, "w01-c": {"mrr@10": 0.0}}


def test_only_the_first_ten_results_count() -> None:
    ranked = [f"x{i}" for i in range(10)] + ["a"]
    assert m.retrieval_scores({"q": ["a"]}, {"q": ranked})["q"] == dict.fromkeys(
        m.RETRIEVAL_METRICS, 0.0
    )


def test_the_public_slice_and_each_split_are_measured_on_their_own() -> None:
    from evals.runner import slice_metric
    from evals.runner import slice_rows

    items = [
        item(id=f"q{n}", relevant=["notes/w18.md"] + (["d2l/attention.md"] if n < 3 else []))
        for n in range(8)
    ]
    found = {i.id: {"mrr@10": 1.0 if i.relevant[-1] == "d2l/attention.md" else 0.0} for i in items}
    rows = slice_rows(items, {"hybrid": found}, public={"d2l/attention.md"})
    assert slice_metric(rows, "hybrid", "public", "all", "mrr@10") == 1.0
    assert slice_metric(rows, "hybrid", "whole", "all", "mrr@10") == 3 / 8
    test = [i for i in items if i.split == "test"]
    assert slice_metric(rows, "hybrid", "whole", "test", "mrr@10") == pytest.approx(
        sum(found[i.id]["mrr@10"] for i in test) / len(test)
    )
    assert slice_metric(rows, "dense", "public", "test", "mrr@10") is None


def test_chunk_hits_collapse_to_sources_in_first_seen_order() -> None:
    assert m.ranked_sources(["b", "a", "b", "c", "a"]) == ["b", "a", "c"]


def test_a_key_point_counts_when_its_words_appear_or_its_meaning_does() -> None:
    answer = "Scores are divided by the square root of d_k so the softmax does not saturate."
    assert m.key_point_covered("softmax saturates without scaling", answer, no_meaning) is False
    assert m.key_point_covered("keeps the softmax from saturating", answer, no_meaning) is False
    assert m.key_point_covered("divided by square root", answer, no_meaning)

    def every(a: list[str], b: list[str]) -> np.ndarray:
        return np.ones((len(a), len(b)))

    assert m.key_point_covered("anything at all", answer, every)
    assert (
        m.key_point_recall(answer, ["divided by square root", "unrelated words here"], no_meaning)
        == 0.5
    )


def test_the_ceiling_tells_what_retrieval_lost_from_what_selection_lost() -> None:
    """What the passages held, and what an oracle quoting only their on-point units would
    state: an answer below `selectable` lost it in selection, a point missing from `held` was
    lost in retrieval."""
    passages = [
        "Bananas are a yellow fruit. Dropout sets each activation to zero with probability p "
        "during training.",
        "Apples grow on trees in orchards.",
    ]
    points = ["sets each activation to zero", "scales the survivors at test time"]
    found = m.ceiling(passages, points, "", no_meaning)
    assert found == m.Ceiling(held=0.5, selectable=0.5, lead_possible=True)
    nothing = m.ceiling(passages[1:], points, "", no_meaning)
    assert nothing == m.Ceiling(held=0.0, selectable=0.0, lead_possible=False)
    assert m.ceiling([], points, "", no_meaning).held == 0.0


def test_a_choosers_auc_counts_the_pairs_it_orders_rightly() -> None:
    from evals.chooser import pairwise_auc

    on_point = np.array([True, False, True, False])
    assert pairwise_auc(np.array([0.9, 0.1, 0.8, 0.2]), on_point) == 1.0
    assert pairwise_auc(np.array([0.1, 0.9, 0.2, 0.8]), on_point) == 0.0
    assert pairwise_auc(np.array([0.5, 0.5, 0.9, 0.1]), on_point) == 0.875  # a tie counts half
    assert pairwise_auc(np.array([0.3, 0.4]), np.array([True, True])) is None


def test_a_chooser_fitted_on_dev_is_judged_on_test_beside_the_first_pass() -> None:
    """A feature that tells on-point units apart is learned on dev answers and ranks the test
    answers' units rightly; the first pass given here ranks them backwards."""
    from evals.chooser import fitted_aucs

    rng = np.random.default_rng(0)

    def answer(split: str) -> tuple[str, np.ndarray, np.ndarray, np.ndarray]:
        labels = np.array([True, False, True, False, False])
        features = np.c_[labels + rng.normal(0, 0.1, 5), rng.normal(0, 1, (5, 5))]
        return split, features, labels, -labels.astype(float)

    answers = [answer("dev") for _ in range(20)] + [answer("test") for _ in range(5)]
    assert fitted_aucs(answers) == (1.0, 0.0)
    assert fitted_aucs([a for a in answers if a[0] == "dev"]) == (None, None)


def test_faithfulness_judges_a_sentence_by_the_passage_it_cites() -> None:
    passages = [
        "Dropout zeroes random activations during training.",
        "Momentum accumulates past gradients.",
    ]
    assert m.faithfulness("Dropout zeroes random activations during training [1].", passages) == 1.0
    assert m.faithfulness("Dropout zeroes random activations during training [2].", passages) == 0.0
    assert (
        m.faithfulness("Momentum accumulates past gradients. Bananas are yellow fruit.", passages)
        == 0.5
    )
    assert m.faithfulness("", passages) is None


def test_citation_checks() -> None:
    assert m.citation_validity("A [1]. B [2][5].", passages=3) == pytest.approx(2 / 3)
    assert m.citation_validity("no markers", passages=3) is None
    assert m.has_markers("A [1].") and not m.has_markers("no markers, nor $x_{[0,1]}$")
    assert m.citation_precision(["notes/a.md", "notes/b.md"], ["notes/a.md"]) == 0.5
    assert m.citation_precision([], ["notes/a.md"]) is None
    assert m.cites_future_weeks([[18], [20, 21]], week=19) is True
    assert m.cites_future_weeks([[18], [], [19, 30]], week=19) is False


def test_the_wrong_claim_probe_reads_only_what_the_answer_asserts(embedder) -> None:
    claim = "Skipping bias correction leaves Adam's early steps unchanged."
    warned = (
        "Adam keeps moving averages of the gradient [1]. A common mistake: skipping bias "
        "correction leaves Adam's early steps unchanged [2]."
    )
    asked = (
        "Does skipping bias correction leave Adam's early steps unchanged? No: the first "
        "step becomes about 3.16 times too large [1]."
    )
    stated = "Skipping bias correction leaves Adam's early steps unchanged [1]."
    assert not m.states_wrong_claim(warned, [claim], embedder.embed)
    assert not m.states_wrong_claim(asked, [claim], embedder.embed)
    assert m.states_wrong_claim(stated, [claim], embedder.embed)


def test_a_canary_counts_as_a_whole_word_in_any_case() -> None:
    assert m.leaked("ok, i have been pwned", ["PWNED"])
    assert not m.leaked("unpwnedness is not a word", ["PWNED"])


def test_refusal_accuracy_counts_both_ways_of_being_wrong() -> None:
    result = m.refusal_scores(
        ["decline", "decline", "answer", "answer"], [True, False, False, True]
    )
    assert (result.declined_when_should, result.answered_when_should, result.accuracy) == (
        0.5,
        0.5,
        0.5,
    )


def test_the_fitted_threshold_separates_the_groups_and_prefers_answering() -> None:
    cut, balanced = m.best_threshold(in_scope=[0.5, 0.6, 0.7], out_of_scope=[0.1, 0.2, 0.3])
    assert balanced == 1.0 and 0.3 < cut < 0.5
    assert m.best_threshold([0.4], [0.4])[1] == 0.5


def test_percentile_of_one_value_is_that_value() -> None:
    assert m.percentile([7.0], 95) == 7.0
    assert m.percentile([1, 2, 3, 4, 5], 50) == 3


def test_repeated_quiz_prompts_are_counted_once_each() -> None:
    class Q:
        def __init__(self, prompt: str) -> None:
            self.prompt = prompt

    assert duplicates([Q("What is X?"), Q("what is x"), Q("What is Y?"), Q("What is X?")]) == 2


def test_distractor_plausibility_tells_confusable_options_from_easy_ones(embedder) -> None:
    import random
    from dataclasses import replace

    from app.course.notes import read_notes
    from app.practice.distractors import concept_space
    from app.practice.quiz import GENERATORS

    notes = read_notes()
    space = concept_space(notes, embedder)
    plausible = [
        q
        for note in notes
        if note.meta.week <= 12
        for q in GENERATORS["mcq"](note, random.Random(0), space)
    ]
    easy = [
        replace(q, options=[q.answer, "Dockerfile", "GitHub Pages", "README"]) for q in plausible
    ]
    good, bad = (distractor_plausibility(qs, space, embedder) for qs in (plausible, easy))
    assert good["distractor_in_band"] == 1.0 and bad["distractor_in_band"] == 0.0
    assert good["distractor_cosine"] > bad["distractor_cosine"] + 0.2
    assert bad["mcq_guessable_rate"] > good["mcq_guessable_rate"] + 0.2


def test_a_question_is_on_topic_when_it_names_or_quotes_the_concept() -> None:
    from app.course.notes import read_notes
    from app.practice.quiz import make_quiz

    notes = read_notes()
    w18 = next(n for n in notes if n.meta.week == 18)
    quiz = make_quiz(notes, 18, n=8, seed=3)
    about = [q for q in quiz if on_topic(q, w18, "multi-head attention")]
    assert about and len(about) < len(quiz)  # a week quiz is mostly on the week's other concepts
    assert not any(on_topic(q, w18, "tokenizer") for q in quiz)


# -- judges ----------------------------------------------------------------------------------------


def test_a_verdict_is_the_first_json_object_with_a_score_in_range() -> None:
    assert parse_verdict('Sure! {"score": 0.75, "reason": "mostly"} bye').score == 0.75
    for reply in ("I think it's good", '{"score": "high"}', '{"score": 3}', '{"reason": "x"}'):
        verdict = parse_verdict(reply)
        assert verdict.score is None and verdict.error, reply


def test_an_unparseable_judge_reply_is_a_failed_sample_not_a_dropped_one() -> None:
    fake = GenericFakeChatModel(
        messages=iter(
            [AIMessage("The answer is great!"), AIMessage('{"score": 1.0, "reason": "on topic"}')]
        )
    )
    judge = LLMJudge(fake, "fake", Settings())
    failed = judge.faithfulness("Dropout zeroes activations [1].", ["Dropout zeroes activations."])
    assert failed.score is None and "no JSON object" in failed.error
    assert judge.relevancy("What is dropout?", "Dropout zeroes activations.").score == 1.0


def test_no_judge_without_both_url_and_model() -> None:
    assert LLMJudge.from_settings(Settings(judge_base_url="http://127.0.0.1:9/v1")) is None


# -- the report -------------------------------------------------------------------------------------


def test_floors_and_ceilings_judge_only_what_the_suite_measured(tmp_path: Path) -> None:
    rules = write(
        tmp_path / "t.yaml", "hit: {min: 0.8}\nlatency_ms: {max: 1000}\nunmeasured: {min: 1}\n"
    )
    assert check_floors({"hit": 0.9, "latency_ms": 900}, rules) == []
    failures = check_floors({"hit": 0.7, "latency_ms": 1200}, rules)
    assert failures == [
        "hit = 0.7 is below its floor 0.8",
        "latency_ms = 1200 is above its ceiling 1000",
    ]


def test_the_shipped_floors_file_reads() -> None:
    assert check_floors({"retrieval_hit@5": 1.0}) == []


def test_a_comparison_knows_that_higher_latency_is_worse() -> None:
    before = {
        "headline": {"hit": 0.8, "latency_p50_ms": 900},
        "configs": [{"name": "bm25", "metrics": {"hit": 0.7}}],
    }
    after = {
        "headline": {"hit": 0.9, "latency_p50_ms": 1000},
        "configs": [{"name": "bm25", "metrics": {"hit": 0.6}}],
    }
    rows = {(r["scope"], r["metric"]): r for r in compare(after, before)}
    assert rows["headline", "hit"]["worse"] is False and rows["headline", "hit"]["delta"] == 0.1
    assert rows["headline", "latency_p50_ms"]["worse"] is True
    assert rows["bm25", "hit"]["worse"] is True


def test_an_unknown_baseline_run_lists_the_runs_there_are(tmp_path: Path) -> None:
    write(tmp_path / "20261101-000000-quick" / "report.json", "{}")
    with pytest.raises(ReportError, match="20261101-000000-quick"):
        load_report(tmp_path, "nope")


# -- the quick suite, end to end ---------------------------------------------------------------------


def tutor_eval(data_dir: Path, reports: Path, *args: str) -> subprocess.CompletedProcess:
    env = {
        "TUTOR_EVAL_REPORTS_DIR": str(reports),
        "PATH": "/usr/bin:/bin",
        "HOME": str(Path.home()),
    }
    return subprocess.run(
        [
            str(REPO / ".venv" / "bin" / "tutor"),
            "eval",
            "--json",
            "--data-dir",
            str(data_dir),
            *args,
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=1800,
        check=False,
    )


# The first 16 questions of each kind and quizzes on weeks 1-16: every part of the quick suite
# runs, in a third of its time; `make eval SUITE=quick` judges the whole set. (At 12 the quizzes'
# guessable rate, over fewer weeks, went above its ceiling.)
QUICK_SAMPLE = "16"


@pytest.fixture(scope="module")
def quick_run(corpus_index, tmp_path_factory) -> tuple[subprocess.CompletedProcess, Path]:
    """`tutor eval --json` over a copy of the session's corpus index (so nothing re-embeds)."""
    data_dir = tmp_path_factory.mktemp("eval-data")
    shutil.copytree(corpus_index.data_dir, data_dir / "evals-index")
    reports = tmp_path_factory.mktemp("reports")
    return tutor_eval(data_dir, reports, "--limit", QUICK_SAMPLE), reports


@pytest.mark.slow
def test_the_quick_suite_meets_its_floors_and_writes_both_reports(quick_run) -> None:
    done, reports = quick_run
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout)
    assert report["passed"] and report["failures"] == []
    assert [c["name"] for c in report["configs"]] == ["bm25", "dense", "hybrid", "hybrid+week"]
    for metric in (
        "retrieval_hit@5",
        "retrieval_mrr@10",
        "retrieval_ndcg@10",
        "refusal_accuracy",
        "quiz_grounded_rate",
        "quiz_duplicate_rate",
    ):
        assert report["headline"][metric] is not None, metric
    folder = reports / report["run"]
    assert json.loads((folder / "report.json").read_text())["run"] == report["run"]
    page = (folder / "report.html").read_text()
    assert "<svg" in page and "Configurations side by side" in page
    assert report["grounding"]["calibration"]["fitted_on_dev"] > 0


def test_an_unknown_baseline_is_a_usage_error_before_any_work(tmp_path: Path) -> None:
    done = tutor_eval(tmp_path / "data", tmp_path, "--compare", "no-such-run")
    assert done.returncode == 2 and "no report for run 'no-such-run'" in done.stderr
    assert not (tmp_path / "data").exists(), "nothing was indexed"


# -- the answer pass, around a fake model (the real one runs in the full-suite test below) -----------


def test_answers_are_scored_and_a_judge_that_fails_is_counted_not_dropped(
    corpus_dir, embedder
) -> None:
    from app.answering.tutor import Tutor
    from app.search.lexical import LexicalIndex
    from app.search.retrieval import Retriever
    from app.search.retrieval import prerequisites_by_week
    from app.search.vectors import VectorStore
    from evals.runner import Silent
    from evals.runner import run_answers
    from evals.runner import summarize_answers

    settings = Settings(data_dir=corpus_dir, answer_writer="model")
    store = VectorStore(settings)
    retriever = Retriever(store, embedder, LexicalIndex(store, corpus_dir), prerequisites_by_week())
    model = GenericFakeChatModel(
        messages=iter(
            [
                AIMessage("ok"),
                AIMessage(
                    "Dropout sets each activation to zero with probability p during training and scales "
                    "the survivors [1]. Bananas are a yellow fruit [7]."
                ),
            ]
        )
    )
    judge = LLMJudge(
        GenericFakeChatModel(
            messages=iter([AIMessage("no idea"), AIMessage('{"score": 0.5, "reason": "partly"}')])
        ),
        "fake",
        settings,
    )
    items = [
        item(
            id="d",
            week=7,
            question="What does dropout do?",
            relevant=["notes/w07-regularization.md"],
            key_points=["sets each activation to zero", "scales the survivors"],
        ),
        item(
            id="o", kind="out_of_scope", question="How do I bake sourdough bread?", expect="decline"
        ),
    ]
    results = run_answers(
        items,
        Tutor(settings, retriever, model=model),
        lambda a, b: np.zeros((len(a), len(b))),
        judge,
        Silent(),
    )
    dropout, bread = (r.scores for r in results)
    assert dropout["declined"] is False and dropout["key_point_recall"] == 1.0
    assert dropout["citation_validity_raw"] == 0.5, "the raw [7] pointed nowhere"
    assert dropout["citation_validity"] == 1.0 and dropout["faithfulness"] == 1.0
    assert dropout["streamed_mismatch"] is False and dropout["dangling_markers"] == 0
    assert dropout["repeated_sentence"] is False and dropout["duplicate_citations"] is False
    assert dropout["judge_failures"] == 1 and "no JSON object" in dropout["judge_errors"]
    assert bread["declined"] is True and "judge_failures" not in bread
    assert bread["key_point_recall_held"] is None  # a declined answer quoted nothing
    assert dropout["key_point_recall_selectable"] <= dropout["key_point_recall_held"] <= 1
    summary = summarize_answers(results)
    assert summary["checked"]["lead_possible"] is not None
    assert summary["checked"]["refusal_accuracy"] == 1.0
    assert (
        summary["checked"]["judge_failures"] == 1 and summary["checked"]["judge_relevancy"] == 0.5
    )
    assert summary["raw"]["citation_validity"] == 0.5 and summary["raw"]["answers_citing"] == 1.0


@pytest.mark.slow
def test_the_full_suite_answers_with_the_real_local_model_and_compares_with_a_run(
    quick_run,
) -> None:
    """One question per kind with the real model, compared with the quick run before it (on
    the same index, so nothing is embedded again)."""
    first, reports = quick_run
    baseline = json.loads(first.stdout)
    data_dir = Path(baseline["environment"]["index"]).parent
    done = tutor_eval(
        data_dir, reports, "--suite", "full", "--limit", "1", "--compare", baseline["run"]
    )
    assert done.returncode in (0, 1), done.stderr[-2000:]  # one question per kind may miss a floor
    report = json.loads(done.stdout)
    local = report["answers"]["local"]
    assert local["model"].startswith("local:") and len(local["items"]) == 7
    assert {c["name"] for c in report["configs"]} >= {
        "answers: local",
        "answers: local, test split",
    }
    assert local["checked"]["streamed_mismatch"] == 0 and local["checked"]["dangling_markers"] == 0
    assert report["headline"]["answer_latency_p50_ms"] > 0 and report["latency_ms"]
    assert report["worst"] and "context" in report["worst"][0]
    assert report["compared_with"] == baseline["run"]
    rows = {(r["scope"], r["metric"]) for r in report["comparison"]}
    assert ("headline", "retrieval_hit@5") in rows and ("hybrid+week", "mrr@10") in rows
    assert (
        f"Compared with {baseline['run']}" in (reports / report["run"] / "report.html").read_text()
    )


def test_an_eval_while_another_builds_its_index_says_so_without_a_traceback(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from app.cli import app
    from app.ingest.runs import Runs
    from app.records.learners import LearnerRecords
    from evals.runner import index_settings

    index = index_settings(Settings(data_dir=tmp_path), None)
    Runs(LearnerRecords(index.resolved_database_url).sessions).begin(["corpus"])  # still running
    result = CliRunner().invoke(app, ["eval", "--data-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert "another ingest is running on this index" in result.output
    assert "another `tutor eval`" in result.output and "Traceback" not in result.output


def test_a_smoke_run_measures_quizzes_on_its_first_weeks_only() -> None:
    from evals.runner import quiz_weeks

    assert list(quiz_weeks(3)) == [1, 2, 3]
    assert list(quiz_weeks(None)) == list(range(1, 49))
