"""Request bodies are read as strictly as workflow files: unknown fields (at any depth) are
422s naming their path with a "did you mean", NaN and infinities are refused, and a body
over the limit is a 413 before it is read whole."""

import uuid

import httpx
import pytest

from server.conftest import ApiUser, LiveServer

UNKNOWN = "definitelyNotAField"


def body_routes(api: httpx.Client) -> list[tuple[str, str]]:
    """Every POST, PUT and PATCH route of the OpenAPI document whose body is a JSON object."""
    document = api.get("/openapi.json").json()
    schemas = document["components"]["schemas"]
    routes = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            content = operation.get("requestBody", {}).get("content", {})
            schema = content.get("application/json", {}).get("schema")
            if method not in ("post", "put", "patch") or schema is None:
                continue
            ref = schema.get("$ref") or next(
                (s["$ref"] for s in schema.get("anyOf", []) if "$ref" in s), None
            )
            if ref and schemas[ref.split("/")[-1]].get("type") == "object":
                routes.append((method.upper(), path))
    return routes


def test_every_route_with_a_body_refuses_an_unknown_field(
    live_server: LiveServer, alice: ApiUser
) -> None:
    with live_server.client(alice.token) as client:
        routes = body_routes(client)
        assert len(routes) >= 15, routes
        for method, path in routes:
            url = path.replace("{", "").replace("}", "")  # any ID: the body is checked first
            for name in {part for part in path.split("/") if part.startswith("{")}:
                url = url.replace(name.strip("{}"), str(uuid.uuid4()))
            response = client.request(method, url, json={UNKNOWN: 1})
            assert response.status_code == 422, (method, path, response.text)
            [problem] = [
                p for p in response.json()["error"]["details"]["problems"] if p["field"] == UNKNOWN
            ]
            assert problem["message"] == f"unknown field {UNKNOWN!r}", (method, path)


def test_a_route_with_dependencies_checks_its_body_not_the_current_user(alice: ApiUser) -> None:
    agent = alice.api.post("/agents", json={"name": "Ada", "role": "developer"})
    assert agent.status_code == 201, agent.text
    wrong = alice.api.patch(f"/agents/{agent.json()['id']}", json={"displayName": "x"})
    assert wrong.status_code == 422
    assert wrong.json()["error"]["details"]["problems"][0]["field"] == "displayName"
    renamed = alice.api.patch(f"/agents/{agent.json()['id']}", json={"role": "architect"})
    assert renamed.status_code == 200, renamed.text


def test_a_misspelt_nested_field_names_its_path_and_the_right_spelling(alice: ApiUser) -> None:
    agent = alice.api.post("/agents", json={"name": "Ada", "role": "developer"}).json()
    steps = [{"id": "a", "name": "A"}, {"id": "b", "name": "B", "dependsOn": ["a"]}]
    workflow = alice.api.post(
        "/workflows",
        json={
            "name": "Strict",
            "description": "",
            "participatingAgents": [agent["id"]],
            "configuration": {"steps": steps},
        },
    ).json()
    steps[1] = {"id": "b", "name": "B", "dependson": ["a"]}
    response = alice.api.patch(
        f"/workflows/{workflow['id']}", json={"configuration": {"steps": steps}}
    )
    assert response.status_code == 422
    [problem] = response.json()["error"]["details"]["problems"]
    assert problem["field"] == "configuration.steps[1].dependson"
    assert problem["fix"].startswith("did you mean 'dependsOn'?")
    # Nothing was changed: the real dependency is still there.
    stored = alice.api.get(f"/workflows/{workflow['id']}").json()
    assert stored["configuration"]["steps"][1]["dependsOn"] == ["a"]


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinities_are_refused(alice: ApiUser, number: str) -> None:
    response = alice.api.post(
        "/providers",
        content=(
            '{"name": "p", "kind": "offline", "defaultModel": "m", '
            f'"settings": {{"latencySeconds": {number}}}}}'
        ),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 422
    [problem] = response.json()["error"]["details"]["problems"]
    assert problem["field"] == "body" and number.lstrip("-") in problem["message"]


def test_a_body_over_the_limit_is_refused_before_it_is_read(alice: ApiUser) -> None:
    huge = b'{"name": "' + b"x" * 50_000_000 + b'"}'
    response = alice.api.post("/agents", content=huge, headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert alice.api.get("/agents").json() == []
