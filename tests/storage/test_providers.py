import os
import stat

import pytest
from sqlalchemy import select

from accord.domain.agent import ModelPrice
from accord.domain.enums import ProviderKind
from accord.domain.errors import Conflict, InvalidInput, NotFound
from accord.storage.repositories.providers import ProviderRepository
from accord.storage.secrets import SECRET_KEY_ENV, SecretUnreadable
from accord.storage.tables import llm_providers

KEY = "sk-test-0123456789abcdef"


@pytest.fixture(autouse=True)
def private_data_dir(tmp_path, monkeypatch):
    """Each test gets its own data directory, so the generated secret key is its own."""
    monkeypatch.setenv("ACCORD_DATA_DIR", str(tmp_path))
    monkeypatch.delenv(SECRET_KEY_ENV, raising=False)
    return tmp_path


def _create(db, user_id, **fields):
    with db.session() as s:
        return ProviderRepository(s).create(
            user_id=user_id,
            name=fields.pop("name", "OpenAI"),
            kind=ProviderKind.OPENAI,
            default_model="gpt-4o-mini",
            **fields,
        )


def test_api_key_is_stored_encrypted_and_only_api_key_for_decrypts_it(db, user_id):
    provider = _create(
        db,
        user_id,
        api_key=KEY,
        price_overrides={"gpt-4o-mini": ModelPrice(input_per_mtok=0.15, output_per_mtok=0.6)},
    )
    assert provider.has_api_key
    assert KEY not in provider.model_dump_json()
    assert provider.to_json_dict()["priceOverrides"] == {
        "gpt-4o-mini": {"inputPerMtok": 0.15, "outputPerMtok": 0.6}
    }
    with db.session() as s:
        stored = s.execute(
            select(llm_providers.c.encrypted_api_key).where(llm_providers.c.id == provider.id)
        ).scalar_one()
        assert KEY not in stored
        assert ProviderRepository(s).api_key_for(provider.id, user_id) == KEY


def test_generated_secret_key_file_is_private_and_reused(db, user_id, private_data_dir):
    provider = _create(db, user_id, api_key=KEY)
    key_file = private_data_dir / "secret.key"
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    first_key = key_file.read_bytes()
    _create(db, user_id, name="OpenAI 2", api_key="another")
    assert key_file.read_bytes() == first_key
    with db.session() as s:
        assert ProviderRepository(s).api_key_for(provider.id, user_id) == KEY


def test_a_different_secret_key_cannot_read_stored_keys(db, user_id, monkeypatch):
    monkeypatch.setenv(SECRET_KEY_ENV, "team passphrase one")
    provider = _create(db, user_id, api_key=KEY)
    with db.session() as s:
        assert ProviderRepository(s).api_key_for(provider.id, user_id) == KEY
    monkeypatch.setenv(SECRET_KEY_ENV, "team passphrase two")
    with db.session() as s, pytest.raises(SecretUnreadable, match="enter the API key again"):
        ProviderRepository(s).api_key_for(provider.id, user_id)


def test_update_replaces_or_removes_the_key_and_keeps_it_when_not_given(db, user_id):
    provider = _create(db, user_id, api_key=KEY)
    with db.session() as s:
        repo = ProviderRepository(s)
        renamed = repo.update(provider.id, user_id=user_id, name="Work OpenAI")
        assert renamed.has_api_key and repo.api_key_for(provider.id, user_id) == KEY
        repo.update(provider.id, user_id=user_id, api_key="sk-new")
        assert repo.api_key_for(provider.id, user_id) == "sk-new"
        cleared = repo.update(provider.id, user_id=user_id, api_key=None)
        assert not cleared.has_api_key
        assert repo.api_key_for(provider.id, user_id) is None


def test_providers_and_their_keys_are_private_to_their_owner(db, user_id, make_user):
    provider = _create(db, user_id, api_key=KEY)
    other = make_user()
    with db.session() as s:
        repo = ProviderRepository(s)
        assert repo.list(user_id=other) == []
        with pytest.raises(NotFound):
            repo.api_key_for(provider.id, other)
        with pytest.raises(NotFound):
            repo.get(provider.id, user_id=other)
        assert [p.name for p in repo.list(user_id=user_id)] == ["OpenAI"]


def test_concurrent_first_uses_agree_on_one_generated_key(private_data_dir):
    """Everyone who starts on a fresh data directory at once ends up with the same key."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from accord.storage.secrets import secret_key

    start = threading.Barrier(8)

    def first_use(_: int) -> bytes:
        start.wait()
        return secret_key()

    with ThreadPoolExecutor(max_workers=8) as pool:
        keys = set(pool.map(first_use, range(8)))
    assert keys == {(private_data_dir / "secret.key").read_bytes().strip()}
    assert list(private_data_dir.iterdir()) == [private_data_dir / "secret.key"]


def test_provider_names_are_unique_per_user_ignoring_case(db, user_id, make_user):
    first = _create(db, user_id, name="slow")
    other = make_user()
    _create(db, other, name="slow")  # another user's: fine
    with db.session() as s:
        repo = ProviderRepository(s)
        with pytest.raises(Conflict) as refused:
            repo.create(user_id=user_id, name="Slow", kind=ProviderKind.OFFLINE, default_model="m")
        assert "a provider named 'slow' already exists" in refused.value.message
        assert "pick another name, or update the existing provider" in refused.value.message
        fast = repo.create(
            user_id=user_id, name="fast", kind=ProviderKind.OFFLINE, default_model="m"
        )
        with pytest.raises(Conflict, match="'slow' already exists"):
            repo.update(fast.id, user_id=user_id, name="SLOW")
        assert repo.update(first.id, user_id=user_id, name="Slow").name == "Slow"


@pytest.mark.parametrize("name", ["offline", "Offline", " OFFLINE "])
def test_a_provider_cannot_take_the_name_workflow_files_give_the_offline_model(db, user_id, name):
    with db.session() as s:
        repo = ProviderRepository(s)
        with pytest.raises(InvalidInput) as refused:
            repo.create(user_id=user_id, name=name, kind=ProviderKind.OFFLINE, default_model="m")
        assert refused.value.problems[0].field == "name"
        assert "built-in offline model" in refused.value.problems[0].message
        mine = repo.create(
            user_id=user_id, name="mine", kind=ProviderKind.OFFLINE, default_model="m"
        )
        with pytest.raises(InvalidInput):
            repo.update(mine.id, user_id=user_id, name=name)


@pytest.mark.parametrize(
    ("fields", "field", "says"),
    [
        ({"kind": ProviderKind.OPENAI_COMPATIBLE}, "baseUrl", "needs the URL of its server"),
        ({"base_url": "localhost:11434/v1"}, "baseUrl", "not an http:// or https:// URL"),
        ({"base_url": "ftp://example.test/v1"}, "baseUrl", "not an http:// or https:// URL"),
        ({"settings": {"latencySeconds": "abc"}}, "settings.latencySeconds", "'abc' is not"),
        ({"settings": {"latencySeconds": -1}}, "settings.latencySeconds", "from 0 to 3600"),
        ({"settings": {"timeoutSeconds": 0}}, "settings.timeoutSeconds", "above 0"),
        ({"settings": {"maxRetries": 1.5}}, "settings.maxRetries", "not an integer"),
        ({"settings": {"seed": True}}, "settings.seed", "not an integer"),
        ({"settings": {"questionRate": 2}}, "settings.questionRate", "from 0 to 1"),
    ],
)
def test_a_provider_that_could_not_work_is_refused_naming_the_field(
    db, user_id, fields, field, says
):
    fields = dict(fields)
    kind = fields.pop("kind", ProviderKind.OFFLINE)
    with db.session() as s:
        repo = ProviderRepository(s)
        with pytest.raises(InvalidInput) as refused:
            repo.create(user_id=user_id, name="p", kind=kind, default_model="m", **fields)
        [problem] = refused.value.problems
        assert (problem.field, says in problem.message) == (field, True), problem
        assert problem.fix
        # An update that would leave the same fault is refused too.
        ok = repo.create(user_id=user_id, name="ok", kind=ProviderKind.OFFLINE, default_model="m")
        with pytest.raises(InvalidInput):
            repo.update(ok.id, user_id=user_id, kind=kind, **fields)


def test_valid_urls_and_settings_are_kept(db, user_id):
    provider = _create(
        db,
        user_id,
        name="local",
        base_url="http://127.0.0.1:11434/v1",
        settings={
            "timeoutSeconds": 60,
            "maxRetries": 2.0,
            "seed": 7,
            "questionRate": 0.5,
            "x": "y",
        },
    )
    assert provider.settings["timeoutSeconds"] == 60
    with db.session() as s:
        repo = ProviderRepository(s)
        changed = repo.update(provider.id, user_id=user_id, kind=ProviderKind.OPENAI_COMPATIBLE)
    assert changed.base_url == "http://127.0.0.1:11434/v1"
