"""The learner database: SQLAlchemy tables on one Base, by aggregate, and their migrations."""
