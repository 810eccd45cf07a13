"""How a process looks to the others, from its last heartbeat."""

import pytest

from accord.domain.errors import AccordError
from accord.engine.liveness import failover_seconds, state_of


@pytest.mark.parametrize(
    ("silent_for", "state"), [(1.0, "alive"), (19.9, "alive"), (20.1, "silent"), (300, "silent")]
)
def test_a_process_is_presumed_dead_after_two_thirds_of_the_failover_time(silent_for, state):
    assert state_of(1000.0 - silent_for, now=1000.0, failover_s=30.0) == state


def test_a_cleanly_stopped_process_is_stopped_at_once():
    assert state_of(0.0, now=1000.0, failover_s=30.0) == "stopped"


def test_the_failover_time_comes_from_the_environment_and_must_be_positive(monkeypatch):
    monkeypatch.delenv("ACCORD_FAILOVER_SECONDS", raising=False)
    assert failover_seconds() == 30.0
    monkeypatch.setenv("ACCORD_FAILOVER_SECONDS", "6")
    assert failover_seconds() == 6.0
    for bad in ("0", "-3", "soon"):
        monkeypatch.setenv("ACCORD_FAILOVER_SECONDS", bad)
        with pytest.raises(AccordError, match="ACCORD_FAILOVER_SECONDS must be a positive"):
            failover_seconds()
