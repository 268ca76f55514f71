"""The answer modes, in a module of their own so that checking `--mode` loads nothing else."""

from __future__ import annotations

from typing import Literal
from typing import get_args

Mode = Literal["explain", "socratic", "quick"]
MODES: tuple[str, ...] = get_args(Mode)
