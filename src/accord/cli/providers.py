"""`accord providers ...`: the model endpoints agents run on (keys are never printed)."""

import json
import os
from typing import Annotated, Any

import typer
from rich.table import Table

from accord.cli.context import AccordApp, console, local_session, print_json, short_id
from accord.cli.terminal import plain
from accord.domain.agent import DETECTED_OUTPUT_MODES, LlmProvider, ProviderCreate
from accord.domain.enums import ProviderKind
from accord.domain.errors import AccordError, validate_request
from accord.domain.lookup import pick
from accord.storage.repositories.providers import ProviderRepository

app = AccordApp(
    no_args_is_help=True,
    help="LLM providers: OpenAI, compatible servers, Anthropic, the offline model.",
)


def find_provider(repo: ProviderRepository, wanted: str, *, user_id: str) -> LlmProvider:
    return pick(
        repo.list(user_id=user_id),
        wanted,
        kind="llm provider",
        name=lambda p: p.name,
        ident=lambda p: p.id,
    )


@app.command("list")
def list_providers(json_: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List your providers."""
    with local_session() as (session, user_id):
        providers = ProviderRepository(session).list(user_id=user_id)
    if json_:
        print_json([p.to_json_dict() for p in providers])
        return
    table = Table("id", "name", "kind", "default model", "base url", "api key")
    for p in providers:
        table.add_row(
            short_id(p.id),
            plain(p.name),
            p.kind.value,
            plain(p.default_model),
            plain(p.base_url or ""),
            "set" if p.has_api_key else "",
        )
    console.print(table if providers else "No providers yet: `accord providers create`.")


@app.command()
def show(provider: str, json_: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Show one provider (by ID, name or ID prefix)."""
    with local_session() as (session, user_id):
        found = find_provider(ProviderRepository(session), provider, user_id=user_id)
    if json_:
        print_json(found.to_json_dict())
        return
    for label, value in (
        ("id", found.id),
        ("name", found.name),
        ("kind", found.kind.value),
        ("default model", found.default_model),
        ("base url", found.base_url or "-"),
        ("api key", "set" if found.has_api_key else "not set"),
        ("output mode", _output_mode(found.settings)),
        (
            "settings",
            {k: v for k, v in found.settings.items() if k != DETECTED_OUTPUT_MODES} or "-",
        ),
    ):
        console.print(f"[bold]{label}:[/] {plain(str(value))}", highlight=False)
    for model, entry in (found.settings.get(DETECTED_OUTPUT_MODES) or {}).items():
        console.print(
            f"  [bold]{plain(model)}[/]: {plain(str(entry.get('mode')))}"
            f" (detected: {plain(str(entry.get('reason') or ''))})",
            highlight=False,
        )


def _output_mode(settings: dict[str, Any]) -> str:
    """The `outputMode` setting in words: fixed, or detected per model (listed below)."""
    mode = str(settings.get("outputMode") or "auto")
    if mode != "auto":
        return f"{mode} (set by outputMode)"
    detected = settings.get(DETECTED_OUTPUT_MODES) or {}
    return "auto: detected per model" + (", as below" if detected else ", none detected yet")


@app.command()
def create(
    name: str,
    kind: Annotated[ProviderKind, typer.Option(help="What speaks at the other end.")],
    model: Annotated[str, typer.Option(help="The default model, e.g. gpt-4o-mini.")],
    base_url: Annotated[
        str | None,
        typer.Option(
            help="For openai_compatible: the server's URL, e.g. http://127.0.0.1:11434/v1."
        ),
    ] = None,
    api_key_env: Annotated[
        str | None,
        typer.Option(
            help="Read the API key from this environment variable (it is stored encrypted and "
            "never shown again)."
        ),
    ] = None,
    setting: Annotated[
        list[str] | None,
        typer.Option(
            help="A kind-specific KEY=VALUE (repeat the option), e.g. latencySeconds=0.5 or "
            "seed=7 for the offline model, timeoutSeconds=60."
        ),
    ] = None,
    json_: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Create a provider."""
    settings = dict(_setting(s) for s in setting or [])
    api_key = None
    if api_key_env is not None:
        api_key = os.environ.get(api_key_env)
        if not api_key:
            raise AccordError(f"environment variable {api_key_env} is not set")
    request = validate_request(
        ProviderCreate,
        {
            "name": name,
            "kind": kind,
            "default_model": model,
            "base_url": base_url,
            "api_key": api_key,
            "settings": settings,
        },
    )
    with local_session() as (session, user_id):
        provider = ProviderRepository(session).create(user_id=user_id, **dict(request))
    if json_:
        print_json(provider.to_json_dict())
    else:
        console.print(f"Created provider [bold]{plain(provider.name)}[/] ({provider.id})")


def _setting(text: str) -> tuple[str, object]:
    """`KEY=VALUE`, the value read as JSON when it is JSON (numbers, true), else a string."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise AccordError(f"--setting {text!r} is not KEY=VALUE")
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value
