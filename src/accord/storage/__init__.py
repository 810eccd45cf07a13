"""Storage: SQLAlchemy tables, Alembic migrations shipped in the package, repositories."""
