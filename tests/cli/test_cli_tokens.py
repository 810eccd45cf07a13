"""`accord tokens`: API tokens for the Python client, made on the local database."""

from pathlib import Path

import pytest

from accord.domain.errors import AccordError
from accord.storage.db import Database
from accord.storage.repositories.tokens import TokenRepository
from tests.cli.conftest import Accord, json_of


def test_a_token_is_shown_once_works_listed_without_its_secret_and_revoked(
    accord: Accord, data_dir: Path
):
    made = accord("tokens", "create", "notebook", "--expires-in-days", "30").stdout
    secret = made.strip().splitlines()[-1]
    assert secret.startswith("acc_") and "shown this once" in made
    db = Database(f"sqlite:///{data_dir / 'accord.db'}")
    try:
        with db.read_session() as session:
            assert TokenRepository(session).verify(secret).name == "notebook"
        listed = json_of(accord("tokens", "list", "--json"))
        assert [(t["name"], t["expiresAt"] is not None) for t in listed] == [("notebook", True)]
        assert secret not in accord("tokens", "list").stdout
        assert "Revoked token notebook" in accord("tokens", "revoke", "notebook").stdout
        with db.read_session() as session, pytest.raises(AccordError):
            TokenRepository(session).verify(secret)
    finally:
        db.dispose()
