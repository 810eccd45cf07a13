"""Clients of a running Accord server: `Client` (`sync`, generated) and `AsyncClient` (`aio`)."""
