"""``kenri person ...``: real people, their verified face photos and their consent records."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kenri.cli.main import JsonOpt, app, state
from kenri.cli.output import guarded, parse_moment, print_json, table

person_app = typer.Typer(
    help="Persons: likeness is used only with their grant.", no_args_is_help=True
)
app.add_typer(person_app, name="person")


@person_app.command("add")
def person_add(
    name: Annotated[str, typer.Argument(help="The person's name.")],
    holder: Annotated[str, typer.Option(help="Holder id or name: the person or their agency.")],
    alias: Annotated[
        list[str] | None, typer.Option(help="Another name, any script; repeatable.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Register a person; prompts naming them are screened like character names."""
    from kenri.likeness.persons import add_person
    from kenri.registry.views import work_view

    def run() -> None:
        with state.open().transaction() as tx:
            view = work_view(add_person(tx, tx.registry.holder(holder), name, alias or []))
        _show(view, as_json)

    guarded(as_json, run)


@person_app.command("face")
def person_face(
    person: Annotated[str, typer.Argument(help="Person id or name.")],
    photo: Annotated[Path, typer.Argument(help="A photo showing the person's face alone.")],
    verified_by: Annotated[str, typer.Option(help="Who verified identity and consent.")],
    method: Annotated[str, typer.Option(help="How it was verified.")] = (
        "identity document checked in person"
    ),
    verified_at: Annotated[
        str | None, typer.Option(help="When it was verified (default now).")
    ] = None,
    note: Annotated[str | None, typer.Option(help="Anything else about the consent.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Add a face photo with its consent record (exactly one face must show)."""
    from kenri.likeness.persons import Consent, add_face
    from kenri.likeness.persons import person as find_person

    def run() -> None:
        k = state.open()
        with k.transaction() as tx:
            consent = Consent(verified_by, method, parse_moment(verified_at, "--verified-at"), note)
            added = add_face(tx, find_person(tx, person), photo, consent)
            view = {
                "reference_id": added.reference.id,
                "person": added.reference.work.title,
                "sha256": added.reference.sha256,
                "face": added.face.to_dict(),
                "consent_id": added.consent.id,
                "verified_by": added.consent.verified_by,
                "verified_at": added.consent.verified_at.isoformat(),
                "method": added.consent.method,
            }
        _show(view, as_json)

    guarded(as_json, run)


@person_app.command("list")
def person_list(as_json: JsonOpt = False) -> None:
    """Every registered person, with how many face photos and consent records they have."""
    from kenri.likeness.persons import consents, persons
    from kenri.registry.views import work_view

    def run() -> None:
        with state.open().transaction() as tx:
            views = []
            for found in persons(tx):
                view = work_view(found)
                view["faces"] = len(consents(tx, found))
                views.append(view)
        if as_json:
            print_json(views)
        else:
            rows = [(v["id"], v["title"], v["holder"], v["faces"]) for v in views]
            table("Persons", ["id", "name", "holder", "faces"], rows)

    guarded(as_json, run)


def _show(view: dict, as_json: bool) -> None:
    if as_json:
        print_json(view)
    else:
        table("person", ["field", "value"], [(k, str(v)) for k, v in view.items()])
