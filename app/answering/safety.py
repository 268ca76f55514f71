"""Requests the tutor will not follow: instructions injected into a question or a passage, and
requests to build tools that harm others. Pattern checks, run before anything reaches the model.
"""

from __future__ import annotations

import re

from app.text import split_sentences

_INJECTION = re.compile(
    r"(ignore|disregard|forget|override)\s+(all\s+|any\s+)?(the\s+|your\s+)?"
    r"(previous|prior|above|earlier|preceding|system)\s+(instructions?|prompts?|rules?|messages?)"
    r"|\b(disregard|ignore|forget)\s+your\s+(rules|instructions)"
    r"|\byou are now\b|\bnew instructions?\s*:|\b(system|developer)\s+(override|mode)\b"
    r"|\b(reveal|print|repeat|show|output|translate|read|list)\b[^.?!]{0,40}\byour\s+(\w+\s+){0,2}"
    r"(prompt|instructions|configuration)\b"
    r"|\binstructions\s+(were\s+you|you\s+were)\s+given\b"
    r"|\b(repeat|print|output)\b[^.?!]{0,30}\b(text|everything|words)\s+above\b"
    r"|\bnote to the (assistant|ai|model)\b|\b(respond|reply|answer)\s+only\s+with\b"
    r"|\b(end|start|begin|finish)\s+(your|every|each)\s+(reply|answer|response)s?\s+with\b"
    r"|\bappend\b[^.?!]{0,60}\bto the end of (every|each|your)\b",
    re.I,
)
# Requests to build tools that harm others: declined whatever the course covers (week 43
# teaches how attacks on models work, not how to write them).
_HARMFUL = re.compile(
    r"\b(write|build|make|create|code|give me|generate)\b[^.?!]{0,40}"
    r"\b(keylogger|ransomware|malware|spyware|botnet|rootkit|credential stealer)s?\b",
    re.I,
)


def redact_instructions(text: str) -> tuple[str, bool]:
    """Remove sentences of a passage that try to instruct the model (prompt injection)."""
    if not _INJECTION.search(text):
        return text, False
    sentences = split_sentences(text)
    clean = [s for s in sentences if not _INJECTION.search(s)]
    return ("\n".join(clean), len(clean) != len(sentences))


def looks_like_injection(text: str) -> bool:
    return bool(_INJECTION.search(text))


def looks_harmful(text: str) -> bool:
    return bool(_HARMFUL.search(text))


_ASKING = re.compile(
    r"^\W*(anyway,?\s+)?(what|why|how|when|which|who|where|explain|summari[sz]e|"
    r"describe|define|compare)\b",
    re.I,
)


def asks_something(text: str) -> bool:
    """Is there a study question here (after injected instructions were removed)? A sentence
    ending in "?" or opening like a question or a request to explain."""
    return any(s.rstrip().endswith("?") or _ASKING.match(s) for s in split_sentences(text))
