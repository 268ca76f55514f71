"""The hidden references of the checks in `app.checks.more`, one module a check.

Each module is also a learner's file that passes its check (`evals.check_cases` runs it as
one): NumPy and the standard library only, no import from the tutor.
"""
