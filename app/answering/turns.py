"""Follow-up or new question: does a question in a conversation lean on the turn before it?

"And at test time?", "can you show me an example?", "why does that matter?" and "how do I choose
k?" cannot be answered alone: they are read together with the earlier question (`Tutor.condense`).
"What's the difference between multi-head and single-head attention?" names its own subject:
joined to the earlier question about √d_k, it would be answered with the softmax's axis. So a
question is a follow-up when it points back (it, that, this one...), opens as a continuation
("and...", "what about..."), asks for more of the same (an example, simpler), or says too little
on its own to name a subject. Measured on a labelled set of turn pairs (`evals/turns/`).
"""

from __future__ import annotations

import re

from app.text import content_words

# Words that point back at what was said ("it", "that", "this one"), as whole words.
_POINTS_BACK = re.compile(
    r"\b(it|its|it's|this|these|those|they|them|their|there|which one|that one|this one|"
    r"the former|the latter|the same)\b"
    r"|\bthat\s*[?.!]?$"  # "why is that?", "divide by that"
    r"|\b(of|by|to|about|for|with|than|from|on|like|does|do|is|mean|use)\s+that\b"
    r"|\bthat\s+(is|was|does|do|matter|matters|mean|means|work|works|help|helps|in|for|with|on)\b"
    r"|\b(too|also|as well|instead)\W*$",  # "for relu too?", "warmup too?"
    re.IGNORECASE,
)
# A continuation: "and at test time?", "so which one...", "what about eval mode?"
_CONTINUES = re.compile(
    r"^\W*(and|so|but|also|then|ok|okay|what about|how about|what if|why not|in that case)\b",
    re.IGNORECASE,
)
# More of the same: asked of the topic before, not of a new one.
_MORE = re.compile(
    r"\b(example|examples|more|again|elaborate|simpler|simply|in code|go on|continue|"
    r"rephrase|clarify|intuition|say more|first)\b",
    re.IGNORECASE,
)
# Words that ask how to answer, not what about: they name no subject.
_ASKING = frozenset(
    [
        "example",
        "examples",
        "explain",
        "show",
        "give",
        "tell",
        "more",
        "again",
        "simpler",
        "simply",
        "mean",
        "means",
        "work",
        "works",
        "help",
        "elaborate",
        "clarify",
        "intuition",
        "say",
        "small",
        "tiny",
        "toy",
        "concrete",
        "numbers",
        "actual",
        "quick",
        "short",
        "little",
        "bit",
        "please",
        "thanks",
        "detail",
        "details",
        "happen",
        "happens",
        "wrong",
        "choose",
        "pick",
        "good",
        "bad",
        "better",
        "best",
        "use",
    ]
)
# The conjunction after which a pronoun points inside the question itself ("What is warmup and
# why do transformers use it?").
_WITHIN = re.compile(r"\b(and|or|but)\b|,")


# A question that defines its own subject, however short: "what is batchnorm?"
_DEFINES = re.compile(r"^\W*(what|who)\s*(is|are|'s|s)\b|^\W*(define|explain)\b", re.IGNORECASE)
SHORT = 4  # words: "same thing as l2?", "whats a good number" say too little to stand alone


def continues(question: str) -> bool:
    """Whether `question`, asked after another in the same conversation, leans on it."""
    subject = content_words(question) - _ASKING
    if _CONTINUES.match(question) or len(subject) < 2:
        return True
    if len(question.split()) <= SHORT and not _DEFINES.match(question):
        return True
    pointer = _POINTS_BACK.search(question)
    if pointer:
        before = question[: pointer.start()]
        named_first = bool(content_words(before) - _ASKING) and _WITHIN.search(before)
        return not named_first
    return bool(_MORE.search(question)) and len(subject) < 3
