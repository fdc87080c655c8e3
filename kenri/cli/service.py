"""``kenri serve``, ``kenri tenant ...`` and ``kenri audit ...``: running the shared service."""

from __future__ import annotations

from typing import Annotated

import typer

from kenri.cli.main import JsonOpt, app, state
from kenri.cli.output import guarded, out, print_json, table

tenant_app = typer.Typer(help="Tenants of the service and their API keys.", no_args_is_help=True)
audit_app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)
app.add_typer(tenant_app, name="tenant")
app.add_typer(audit_app, name="audit")


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8080,
    workers: Annotated[
        int,
        typer.Option(
            min=1, max=64, help="Worker processes (screening is CPU-bound: one per core)."
        ),
    ] = 1,
) -> None:
    """Run the REST API (OpenAPI at /docs and /openapi.json). Create an operator tenant first:
    ``kenri tenant create NAME --role operator``."""
    import os

    import uvicorn

    from kenri.service.app import create_app
    from kenri.service.transport import PROTOCOL

    if workers == 1:
        uvicorn.run(create_app(state.open()), host=host, port=port, http=PROTOCOL)
        return
    # Each worker process opens its own kenri from the environment (PostgreSQL is meant here:
    # with SQLite the workers take turns writing).
    settings = state.open().settings
    os.environ["KENRI_HOME"], os.environ["KENRI_DB"] = str(settings.home), settings.db_url
    if settings.descriptor:
        os.environ["KENRI_DESCRIPTOR"] = settings.descriptor
    uvicorn.run(
        "kenri.service.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        http=PROTOCOL,
    )


@tenant_app.command("create")
def tenant_create(
    name: Annotated[str, typer.Argument(help="Tenant name (a holder's or licensee's name).")],
    role: Annotated[str, typer.Option(help="holder, licensee or operator.")],
    country: Annotated[str | None, typer.Option(help="ISO 3166 code.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a tenant and print its first API key (shown only now)."""

    def run() -> None:
        from kenri.service.tenants import Tenants

        with state.open().transaction("cli") as tx:
            tenants = Tenants(tx.registry, "cli")
            tenant = tenants.create(name, role, country)
            _, key = tenants.issue_key(tenant, "first key")
            result = {"id": tenant.id, "name": tenant.name, "role": tenant.role, "key": key}
        if as_json:
            print_json(result)
        else:
            out.print(f"tenant {result['id']} {name} ({role}); API key: {key}", highlight=False)

    guarded(as_json, run)


@tenant_app.command("list")
def tenant_list(as_json: JsonOpt = False) -> None:
    def run() -> None:
        from kenri.service.tenants import Tenants

        with state.open().transaction("cli") as tx:
            rows = [{"id": t.id, "name": t.name, "role": t.role}
                    for t in Tenants(tx.registry, "cli").all()]  # fmt: skip
        if as_json:
            print_json(rows)
        else:
            table("tenants", ["id", "name", "role"], [list(r.values()) for r in rows])

    guarded(as_json, run)


@tenant_app.command("key")
def tenant_key(
    name: Annotated[str, typer.Argument(help="Tenant name.")],
    expires_days: Annotated[
        int | None, typer.Option("--expires-days", help="The key stops working after N days.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Issue another API key for a tenant."""

    def run() -> None:
        from kenri.service.tenants import Tenants

        with state.open().transaction("cli") as tx:
            tenants = Tenants(tx.registry, "cli")
            _, key = tenants.issue_key(tenants.by_name(name), "cli", expires_days)
        if as_json:
            print_json({"key": key})
        else:
            out.print(key, highlight=False)

    guarded(as_json, run)


@audit_app.command("verify")
def audit_verify(as_json: JsonOpt = False) -> None:
    """Check the whole hash chain; exit 3 when any entry was edited, removed or reordered."""
    from kenri.audit.log import verify

    def run() -> None:
        with state.open().transaction("cli") as tx:
            result = verify(tx.session)
        if as_json:
            print_json(result.to_dict())
        elif result.ok:
            out.print(f"audit log intact: {result.entries} entries, head {result.head}")
        else:
            out.print(f"audit log BROKEN ({result.entries} entries):", highlight=False)
            for problem in result.problems:
                out.print(f"  - {problem}", highlight=False)
        if not result.ok:
            raise typer.Exit(3)

    guarded(as_json, run)
