"""Our own course notes (`corpus/notes/*.md`): their front matter and check-yourself questions.

The notes are the tutor's ground truth; this module is the one reader of their structure, used
by ingest (weeks), week tagging (concepts) and quiz generation (check-yourself questions).
"""

from __future__ import annotations

import re
from pathlib import Path

import frontmatter
from pydantic import BaseModel
from pydantic import ConfigDict
from pydantic import Field
from pydantic import model_validator

NOTES_DIR = Path(__file__).resolve().parents[2] / "corpus" / "notes"
_QA = re.compile(r"^\*\*Q:\*\*\s*(.+?)\s*\n\*\*A:\*\*\s*(.+?)\s*$", re.M)
CHECK_HEADING = "## Check yourself"
_DEFINITION = re.compile(r"^\*\*Definition\.\*\*\s*(.+?)(?:\n\s*\n|\Z)", re.M | re.S)


class NoteMeta(BaseModel):
    model_config = ConfigDict(extra="forbid")

    week: int = Field(ge=1, le=72)
    title: str = Field(min_length=1)
    concepts: list[str] = Field(min_length=1)
    prerequisites: list[int] = Field(default_factory=list)
    resources: list[str] = Field(default_factory=list)
    months: list[int] = Field(default_factory=list)

    @model_validator(mode="after")
    def _prerequisites_come_first(self) -> NoteMeta:
        later = [w for w in self.prerequisites if w >= self.week]
        if later:
            raise ValueError(f"prerequisites must be earlier weeks than {self.week}, got {later}")
        return self


class Note(BaseModel):
    path: Path
    meta: NoteMeta
    body: str

    @property
    def definitions(self) -> dict[str, str]:
        """Each concept's one-paragraph definition (the `**Definition.**` of its section)."""
        found = {}
        for section in re.split(r"^## ", self.body, flags=re.M)[1:]:
            heading, _, text = section.partition("\n")
            match = _DEFINITION.search(text)
            concept = next(
                (c for c in self.meta.concepts if c.lower() == heading.strip().lower()), None
            )
            if match and concept:
                found[concept] = " ".join(match.group(1).split())
        return found

    @property
    def check_yourself(self) -> list[tuple[str, str]]:
        """The note's closing questions and their short answers."""
        _, _, section = self.body.partition(CHECK_HEADING)
        return [(q, a) for q, a in _QA.findall(section)]


def read_note(path: Path) -> Note:
    post = frontmatter.load(path)
    return Note(path=path, meta=NoteMeta.model_validate(post.metadata), body=post.content)


def read_notes(notes_dir: Path = NOTES_DIR) -> list[Note]:
    return [read_note(p) for p in sorted(notes_dir.glob("*.md"))]
