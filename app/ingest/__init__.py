"""Ingest: turn the curriculum and course notes into an index the tutor can search."""
