"""Repositories: one per table, each taking a session and flushing, never committing.

The caller (a route, the engine) owns the transaction: `with db.session() as s: Repo(s)...`.
They turn rows into domain models and back; nothing above this layer sees a Row.
"""
