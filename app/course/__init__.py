"""The plan as data and its rules: curriculum, notes, pacing, today, rubric, milestones."""
