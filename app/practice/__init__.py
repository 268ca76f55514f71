"""Practice: questions, distractors, grading, FSRS scheduling and card export."""
