"""Pure domain: pydantic models for every spec type, enums, and definition validation.

Nothing here does I/O or imports another Accord layer.
"""
