"""The checks of the plan's later from-scratch work, one module a check (`wNN_name.py`, each
defining `CHECK`), found here by name so that a new check is one new module and one new
reference (`app.checks.references.wNN_name`), and touches no shared list."""

from __future__ import annotations

import importlib
import pkgutil

from app.checks.properties import Check


def later_checks() -> tuple[Check, ...]:
    """Every module's `CHECK`, by week then name."""
    found = [
        importlib.import_module(f"{__name__}.{module.name}").CHECK
        for module in pkgutil.iter_modules(__path__)
        if module.name.startswith("w")
    ]
    return tuple(sorted(found, key=lambda c: (c.week, c.name)))
