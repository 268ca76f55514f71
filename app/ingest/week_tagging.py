"""Give material without a week the curriculum weeks it matches best.

Each week 1-48 is described by its plan entry plus the concepts our own note for that week
lists; a document's vector (the mean of its chunk vectors) is compared with every week's.
The best week, and close runners-up, become the document's `weeks` metadata, so a learner
in week 18 is also shown public notes about attention.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from app.course.curriculum import Curriculum
from app.course.notes import read_notes

RUNNER_UP_MARGIN = 0.05
MAX_WEEKS = 3


def week_topics(curriculum: Curriculum, notes_dir: Path | None) -> dict[int, str]:
    """A short text per week: its title, the plan's lines and our note's concepts."""
    concepts: dict[int, list[str]] = {}
    if notes_dir and notes_dir.is_dir():
        concepts = {note.meta.week: note.meta.concepts for note in read_notes(notes_dir)}
    topics = {}
    for week in curriculum.weeks():
        lines = [week.title, *(item.text for _, item in week.fields())]
        if week.number in concepts:
            lines.append("Concepts: " + ", ".join(concepts[week.number]))
        topics[week.number] = ". ".join(lines)
    return topics


class WeekTagger:
    def __init__(self, week_numbers: list[int], week_vectors: np.ndarray) -> None:
        self.week_numbers = week_numbers
        self.week_vectors = week_vectors

    def weeks_for(self, chunk_vectors: np.ndarray) -> list[int]:
        """Best-matching weeks for a document, best first."""
        if len(chunk_vectors) == 0:
            return []
        centroid = chunk_vectors.mean(axis=0)
        centroid /= np.linalg.norm(centroid) or 1.0
        scores = self.week_vectors @ centroid
        order = np.argsort(-scores)[:MAX_WEEKS]
        best = scores[order[0]]
        return [self.week_numbers[i] for i in order if scores[i] >= best - RUNNER_UP_MARGIN]
