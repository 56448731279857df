"""``shailoo api`` and ``shailoo token``: the REST API and its tokens."""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn

from api import create_app
from api.auth import Scope, make_token, token_hash
from cli.app import app, fail
from cli.logs import configure_logging
from cli.serve import bind, serve, uvicorn_options
from cli.service import run_async, stop_on_signals
from store.bootstrap import database_of
from store.queries import tokens
from store.settings import Settings, get_settings

__all__ = ["api_command", "token_create", "token_list", "token_revoke"]

token_app = typer.Typer(help="API tokens: create, list, revoke.", no_args_is_help=True)
app.add_typer(token_app, name="token")

Host = Annotated[str | None, typer.Option(help="Address to listen on [settings: api.host].")]
Port = Annotated[int | None, typer.Option(help="Port [settings: api.port, 8080].")]


@app.command("api")
def api_command(
    host: Host = None,
    port: Port = None,
    workers: Annotated[
        int, typer.Option(min=1, help="Processes serving the API (for more readers).")
    ] = 1,
) -> None:
    """Serve only the REST API (no modems). Documentation at /docs.

    For more readers of one database next to 'shailoo run', or beside 'shailoo run --no-api'."""
    settings = _with_address(get_settings(), host, port)
    configure_logging(settings.log_level, settings.log_format)
    if workers > 1:
        typer.echo(f"API on http://{settings.api.host}:{settings.api.port} ({workers} workers)")
        uvicorn.run(
            "cli.serve:from_settings", factory=True, host=settings.api.host,
            port=settings.api.port, workers=workers, **uvicorn_options(),
        )  # fmt: skip
        return
    run_async(lambda: _serve_api(settings))


async def _serve_api(settings: Settings) -> None:
    stop = stop_on_signals()
    async with database_of(settings) as db:
        listener = bind(settings.api.host, settings.api.port)
        typer.echo(f"API on http://{settings.api.host}:{settings.api.port} (docs at /docs)")
        await serve(create_app(db, settings.api, settings.strata), listener, stop)


def _with_address(settings: Settings, host: str | None, port: int | None) -> Settings:
    update = {"host": host or settings.api.host, "port": port or settings.api.port}
    return settings.model_copy(update={"api": settings.api.model_copy(update=update)})


@token_app.command("create")
def token_create(
    name: Annotated[str, typer.Option(help="Who or what uses it, e.g. dashboard.")],
    scope: Annotated[
        Scope, typer.Option(help="read, read:pii (phone numbers, texts) or admin.")
    ] = Scope.READ,
) -> None:
    """Create an API token and print it (this once: only its hash is kept)."""
    settings = get_settings()

    async def go() -> str:
        async with database_of(settings) as db:
            async with db.transaction() as session:
                token, prefix = make_token()
                await tokens.add_token(session, name, scope.value, prefix, token_hash(token))
            return token

    token = run_async(go)
    typer.echo(token)
    typer.echo(
        f"token {name!r} with scope {scope.value!r}: keep it now, it is not shown again. "
        "Use it as 'Authorization: Bearer <token>'.",
        err=True,
    )


@token_app.command("list")
def token_list() -> None:
    """List tokens (never their secrets)."""
    settings = get_settings()

    async def go() -> list[str]:
        async with database_of(settings) as db, db.session() as session:
            rows = await tokens.list_tokens(session)
        return [
            f"{row['id']:>4}  {row['prefix']}  {row['scope']:<8}  {row['name']:<20}  "
            f"created {row['created_at']:%Y-%m-%d %H:%M}  "
            + (f"REVOKED {row['revoked_at']:%Y-%m-%d %H:%M}" if row["revoked_at"] else
               f"last used {row['last_used_at']:%Y-%m-%d %H:%M}" if row["last_used_at"] else
               "never used")
            for row in rows
        ]  # fmt: skip

    lines = run_async(go)
    typer.echo("\n".join(lines) if lines else "no tokens yet: shailoo token create --name NAME")


@token_app.command("revoke")
def token_revoke(
    key: Annotated[str, typer.Argument(help="The token's id, name or prefix.")],
) -> None:
    """Revoke a token (API processes stop accepting it within api.token_cache_s, 10 s)."""
    settings = get_settings()

    async def go() -> int:
        async with database_of(settings) as db, db.transaction() as session:
            return await tokens.revoke_token(session, key)

    count = run_async(go)
    if not count:
        fail(f"no live token with id, name or prefix {key!r} (see 'shailoo token list')")
    typer.echo(f"revoked {count} token(s)")
