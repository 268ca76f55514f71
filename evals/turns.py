"""Follow-up or new question (`app.answering.turns.continues`), against labelled turn pairs.

`evals/turns/turn_pairs.jsonl` was written beside the rules (a dev set); `held_out.jsonl` was
written afterwards by someone who had not seen them, and is the number to read. Each line:
{"earlier": ..., "question": ..., "follows": true|false}.
"""

from __future__ import annotations

import json
from pathlib import Path

from app.answering.turns import continues

TURNS_DIR = Path(__file__).resolve().parent / "turns"
SETS = {"dev": "turn_pairs.jsonl", "held_out": "held_out.jsonl"}


def turn_accuracy(folder: Path = TURNS_DIR) -> dict[str, dict[str, float | int]]:
    """Per set: pairs, accuracy, and the share of follow-ups and of new questions told right."""
    report: dict[str, dict[str, float | int]] = {}
    for name, file in SETS.items():
        rows = [json.loads(line) for line in (folder / file).read_text().splitlines() if line]
        right = [continues(r["question"]) == r["follows"] for r in rows]
        follows = [ok for ok, r in zip(right, rows) if r["follows"]]
        new = [ok for ok, r in zip(right, rows) if not r["follows"]]
        report[name] = {
            "pairs": len(rows),
            "accuracy": round(sum(right) / len(rows), 4),
            "follow_ups_right": round(sum(follows) / len(follows), 4),
            "new_questions_right": round(sum(new) / len(new), 4),
        }
    return report
