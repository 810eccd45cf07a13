"""Schemathesis against `/openapi.json`: generated requests find no 5xx and no response that
breaks the documented schema (status codes, content types, bodies)."""

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accord.server.app import create_app
from server.conftest import ApiUser, LiveServer, make_user

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module", autouse=True)
def workspaces_kept_in_a_temporary_folder(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[None]:
    """Generated starts name workspace folders anywhere: keep them, and the default ones,
    inside a temporary folder (a named folder outside it is a 422)."""
    with pytest.MonkeyPatch.context() as patch:
        root = tmp_path_factory.mktemp("workspaces")
        patch.setenv("ACCORD_DATA_DIR", str(root))
        patch.setenv("ACCORD_WORKSPACE_ROOTS", str(root))
        yield


@pytest.fixture(scope="module")
def fuzz_user(engine_server: LiveServer) -> ApiUser:
    return make_user(engine_server, "Fuzz")


# The document the server serves (`/openapi.json`) is `app.openapi()`; loading it here lets
# pytest list one test per operation. Event streams never end by themselves; their behaviour
# is tested in test_events.py.
schema = schemathesis.openapi.from_dict(create_app().openapi()).exclude(path_regex="/events$")


@schema.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_the_api_keeps_to_its_schema(case, fuzz_user: ApiUser, engine_server: LiveServer) -> None:
    case.call_and_validate(
        base_url=engine_server.base_url,
        headers={"Authorization": f"Bearer {fuzz_user.token}"},
        checks=CHECKS,
    )


# On Postgres, the operations that write user text: the database's own refusals (NUL
# characters, say) must come back as 4xx too.
pg_schema = schema.include(
    path_regex="^/api/v1/(me|agents|providers|tokens|mcp-servers)$",
    method=["POST", "PATCH"],
)


@pytest.mark.postgres
@pg_schema.parametrize()
@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_writes_on_postgres_keep_to_the_schema(case, pg_live_server: LiveServer) -> None:
    user = make_user(pg_live_server, "Fuzz")
    case.call_and_validate(
        base_url=pg_live_server.base_url,
        headers={"Authorization": f"Bearer {user.token}"},
        checks=CHECKS,
    )
