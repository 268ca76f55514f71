"""Off-topic by meaning: near-miss probes that share a word with the notes but are about
something else ("How do I train my dog to sit?"), beside in-scope controls worded the same way.

`evals/offtopic/near_misses.jsonl` was written by someone who had seen neither the tutor's
rules nor its everyday bank; nothing was tuned on it. Each line: {"question", "in_scope"}.
"""

from __future__ import annotations

import json
from pathlib import Path

from app.answering.tutor import Tutor

NEAR_MISSES = Path(__file__).resolve().parent / "offtopic" / "near_misses.jsonl"


def near_miss_scores(tutor: Tutor, path: Path = NEAR_MISSES) -> dict[str, float | int]:
    """The share of probes declined and of controls answered (the grounding decision, no
    model), and the questions each got wrong."""
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    probes = [r["question"] for r in rows if not r["in_scope"]]
    controls = [r["question"] for r in rows if r["in_scope"]]
    answered = {q: tutor.prepare(q).grounded for q in probes + controls}
    return {
        "probes": len(probes),
        "controls": len(controls),
        "probes_declined": round(sum(not answered[q] for q in probes) / len(probes), 4),
        "controls_answered": round(sum(answered[q] for q in controls) / len(controls), 4),
    }
