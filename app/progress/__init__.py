"""Reports over a learner's records: weak spots, back to the prerequisite, the progress overview."""
