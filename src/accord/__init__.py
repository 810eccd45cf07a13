"""Accord: teams of LLM agents running durable workflows together."""

__version__ = "0.1.0"
