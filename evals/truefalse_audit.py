"""Are the true/false items fair? Every true/false item the generator (`app.practice.quiz.
truefalse`) makes on the notes of weeks 1-48, counted, and a sample to read by hand.

A false item swaps a definition's concept for another (`ConceptSpace.swap`); it is fair only
when the swapped statement is false (the swap is no part, instance or synonym of the concept)
and still English. The counts say how many items were made, true and false, which
definitions were skipped and why, and why each true item got no swap. The sample puts the false
items first, in an order drawn from `--seed`, then true ones: a true item is the notes' own
sentence, so the false ones are where unfairness can hide. `docs/truefalse-read.md`
holds one such reading.

    python -m evals.truefalse_audit               # the counts and a sample of 30
    python -m evals.truefalse_audit --sample 50   # a larger sample
    python -m evals.truefalse_audit --json        # the same as JSON
"""

from __future__ import annotations

import argparse
import json
import random
from collections import Counter
from dataclasses import asdict
from dataclasses import dataclass
from typing import Any

from app.course.notes import Note
from app.course.notes import read_notes
from app.practice.distractors import ConceptSpace
from app.practice.distractors import concept_space
from app.practice.quiz import notes_for_week
from app.practice.quiz import truefalse

WEEKS = range(1, 49)
NOT_NAMED = "its definition does not name the concept (nothing to swap or blank)"


@dataclass(frozen=True)
class Item:
    """One true/false item: its week, note, concept, answer and statement; `swap` the concept
    put in the concept's place (false items) and `why_true` why there is none (true items)."""

    week: int
    source: str
    concept: str
    answer: str
    statement: str
    swap: str | None
    why_true: str | None


def audit(
    notes: list[Note], space: ConceptSpace, weeks: range = WEEKS
) -> tuple[list[Item], Counter[str]]:
    """Every true/false item on the notes of `weeks`, and the definitions that got none, by
    reason."""
    own = {note.path: note for week in weeks for note in notes_for_week(notes, week)}
    items: list[Item] = []
    skipped: Counter[str] = Counter()
    for note in own.values():
        concepts = {definition: concept for concept, definition in note.definitions.items()}
        made = list(truefalse(note, random.Random(0), space))
        skipped[NOT_NAMED] += len(concepts) - len(made)
        for question in made:
            concept = concepts[question.citation["snippet"]]
            week, definition = note.meta.week, question.citation["snippet"]
            items.append(
                Item(
                    week,
                    question.citation["source"],
                    concept,
                    question.answer,
                    question.prompt.removeprefix("True or false? "),
                    space.swap(concept, week, definition) if question.answer == "False" else None,
                    space.refusal(concept, week, definition) if question.answer == "True" else None,
                )
            )
    return items, +skipped


def counts(items: list[Item], skipped: Counter[str]) -> dict[str, Any]:
    """Items made, true and false; definitions skipped by reason; true items by the reason they
    got no swap."""
    return {
        "made": len(items),
        "true": sum(i.answer == "True" for i in items),
        "false_swapped": sum(i.answer == "False" for i in items),
        "skipped": dict(skipped.most_common()),
        "true_because": dict(Counter(i.why_true for i in items if i.why_true).most_common()),
    }


def sample(items: list[Item], n: int, seed: int) -> list[Item]:
    """`n` items to read: the false ones first, then true ones, each in an order drawn from
    `seed`."""
    rng = random.Random(seed)
    false = [i for i in items if i.answer == "False"]
    true = [i for i in items if i.answer == "True"]
    rng.shuffle(false)
    rng.shuffle(true)
    return (false + true)[:n]


def report(found: dict[str, Any], chosen: list[Item]) -> str:
    """The counts, then the sample numbered, as text."""
    lines = [
        f"true/false items on weeks {WEEKS.start}-{WEEKS.stop - 1}: {found['made']} made, "
        f"{found['true']} true, {found['false_swapped']} false (swapped)",
        "definitions skipped:",
        *(f"  {n:4d}  {why}" for why, n in found["skipped"].items()),
        "true items, why no swap:",
        *(f"  {n:4d}  {why}" for why, n in found["true_because"].items()),
        f"sample of {len(chosen)}:",
    ]
    for number, item in enumerate(chosen, 1):
        swap = f" (swap: {item.concept} -> {item.swap})" if item.swap else ""
        lines.append(f"{number:3d}. [week {item.week}] {item.answer}{swap}: {item.statement}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.truefalse_audit", description=__doc__)
    parser.add_argument("--sample", type=int, default=30, help="how many items to list")
    parser.add_argument("--seed", type=int, default=0, help="the order of the sample")
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args(argv)
    notes = read_notes()
    items, skipped = audit(notes, concept_space(notes))
    found, chosen = counts(items, skipped), sample(items, args.sample, args.seed)
    if args.json:
        print(json.dumps({"counts": found, "sample": [asdict(i) for i in chosen]}, indent=2))
    else:
        print(report(found, chosen))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
