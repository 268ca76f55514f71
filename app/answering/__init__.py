"""The question's path: route (plan or concept), passages, compose, support check, citations, safety."""
