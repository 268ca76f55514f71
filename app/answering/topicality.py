"""Is the question's subject the course's? "How do I train my dog to sit?" shares "train" with
the notes, and "Which momentum strategy works best for stocks?" shares "momentum": the words
match, the subject does not.

The question is compared, by meaning (the packaged embedding model), with a bank of everyday
questions (`everyday_questions.txt`: pets, cooking, money, health, travel... many of them
using a word the course also uses, in its everyday sense) and with the course sentences that
would answer it. A question closer to everyday life than to anything the notes say is declined.
The bank is a few hundred lines of text, embedded once per model and kept in the encoder
cache (`Embedder.embed_bank`): a cold command reads its vectors instead of embedding them.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np

EVERYDAY = Path(__file__).resolve().parent / "everyday_questions.txt"
# How much closer to the everyday bank than to the course a question must be to be declined:
# none. A negative margin would decline questions closer to the course than to everyday life
# (at -0.05 the golden set's test split loses an in-scope question). The held-out near-miss
# probes (evals/offtopic) measure it.
MARGIN = 0.0

Embed = Callable[[list[str]], np.ndarray]
# A question that names a part of the plan is about the course, whatever else it says.
_PLAN = re.compile(r"\b(week|month|quarter)\s+\d+\b|\b(capstone|milestone)s?\b", re.IGNORECASE)


class Topicality:
    """The everyday bank, embedded on first use (thread-safe)."""

    def __init__(
        self, embed: Embed, embed_bank: Embed | None = None, bank: Path = EVERYDAY
    ) -> None:
        """`embed` reads questions; `embed_bank` the bank (default `embed`), where it may keep
        the vectors between processes."""
        self._embed = embed
        self._embed_bank = embed_bank or embed
        self._bank = bank
        self._vectors: np.ndarray | None = None
        self._lock = threading.Lock()

    def everyday(self, question: str, course_similarity: float) -> bool:
        """Whether `question` is closer (by `MARGIN`) to an everyday question than to the
        course (`course_similarity`: the cosine of the best passage or sentence found for it)."""
        if _PLAN.search(question):
            return False
        closest = float((self._bank_vectors() @ self._embed([question])[0]).max())
        return closest > course_similarity + MARGIN

    def _bank_vectors(self) -> np.ndarray:
        with self._lock:
            if self._vectors is None:
                lines = [line.strip() for line in self._bank.read_text().splitlines()]
                self._vectors = self._embed_bank([line for line in lines if line])
            return self._vectors
