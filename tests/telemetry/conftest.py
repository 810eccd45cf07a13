"""Telemetry as an operator meets it: traces caught by the OpenTelemetry SDK's in-memory
exporter, metrics read in the Prometheus text format, log lines parsed as JSON."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import REGISTRY, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from accord.telemetry import tracing


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The local data directory (SQLite database, engine state) of this test's runs."""
    for name in [k for k in os.environ if k.startswith(("ACCORD_", "OTEL_"))]:
        monkeypatch.delenv(name)
    path = tmp_path / "data"
    monkeypatch.setenv("ACCORD_DATA_DIR", str(path))
    monkeypatch.setenv("ACCORD_DBOS_LOG_LEVEL", "ERROR")
    return path


def traced(include_content: bool) -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    tracing.install(exporter, include_content=include_content, batch=False)
    try:
        yield exporter
    finally:
        tracing.shutdown()


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """Traces on, as with the OTEL_* variables set, into memory; content left out."""
    yield from traced(include_content=False)


@pytest.fixture
def spans_with_content() -> Iterator[InMemorySpanExporter]:
    """Traces on with ACCORD_TRACE_CONTENT=true."""
    yield from traced(include_content=True)


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of a Prometheus text exposition, by name and labels."""
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def scrape_here() -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """This process's metrics, as its `/metrics` shows them."""
    return samples(generate_latest(REGISTRY).decode())


def total(
    found: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    """The sum of `name`'s samples whose labels include `labels`."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in found.items() if n == name and wanted <= ls)
