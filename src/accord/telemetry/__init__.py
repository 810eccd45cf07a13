"""Operating Accord in production: OpenTelemetry traces (`tracing`), Prometheus metrics
(`metrics`), structured logs (`logs`) and what one step attempt reports to all three
(`attempts`).

This package imports nothing of Accord's but the domain, so that every layer may report
through it."""
