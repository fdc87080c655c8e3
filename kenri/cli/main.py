"""``kenri`` commands. Each command opens one transaction and prints JSON with ``--json``."""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

import kenri
from kenri.app import Kenri
from kenri.catalog import import_catalog
from kenri.cli.output import err, guarded, out, parse_moment, print_json, table
from kenri.errors import InvalidInput, KenriError, MediaError
from kenri.registry.registry import NameSpec
from kenri.registry.views import (
    character_view,
    grant_view,
    holder_view,
    licensee_view,
    reference_view,
    work_view,
)

app = typer.Typer(
    help="kenri (権利): consent-first copyright infrastructure for generative AI.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
holder_app = typer.Typer(help="Rights holders.", no_args_is_help=True)
work_app = typer.Typer(help="Protected works.", no_args_is_help=True)
character_app = typer.Typer(help="Characters, with names in every script.", no_args_is_help=True)
reference_app = typer.Typer(help="Reference images and videos.", no_args_is_help=True)
licensee_app = typer.Typer(help="Licensees (AI companies).", no_args_is_help=True)
grant_app = typer.Typer(help="Licence grants: the only way to allow use.", no_args_is_help=True)
consent_app = typer.Typer(help="Ask the consent ledger.", no_args_is_help=True)
screen_app = typer.Typer(
    help="Screen images and videos against the registry.", no_args_is_help=True
)
index_app = typer.Typer(
    help="The search indexes (derived from the registry).", no_args_is_help=True
)
for sub, name in [
    (holder_app, "holder"),
    (work_app, "work"),
    (character_app, "character"),
    (reference_app, "reference"),
    (licensee_app, "licensee"),
    (grant_app, "grant"),
    (consent_app, "consent"),
    (screen_app, "screen"),
    (index_app, "index"),
]:
    app.add_typer(sub, name=name)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]


class _State:
    home: str | None = None
    db: str | None = None
    _kenri: Kenri | None = None

    def open(self) -> Kenri:
        if self._kenri is None:
            self._kenri = kenri.open(self.home, self.db)
        return self._kenri


state = _State()


@app.callback()
def main(
    home: Annotated[
        str | None, typer.Option("--home", help="Data folder (default $KENRI_HOME or ~/.kenri).")
    ] = None,
    db: Annotated[
        str | None,
        typer.Option("--db", help="Database URL (default $KENRI_DB or SQLite in the data folder)."),
    ] = None,
) -> None:
    state.home, state.db, state._kenri = home, db, None


# -- init and import ------------------------------------------------------------------------
@app.command()
def init(as_json: JsonOpt = False) -> None:
    """Create the data folder and bring the database schema up to date."""

    def run() -> None:
        k = state.open()
        info = {"home": str(k.settings.home), "db": _safe_url(k.settings.db_url)}
        if as_json:
            print_json(info)
        else:
            out.print(f"kenri ready: data folder {info['home']}, database {info['db']}")

    guarded(as_json, run)


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@app.command("import")
def import_(
    catalog: Annotated[Path, typer.Argument(help="Catalog file, one JSON object per line.")],
    as_json: JsonOpt = False,
) -> None:
    """Import a JSON Lines catalog (idempotent; bad lines are reported, the rest imported)."""

    def run() -> None:
        k = state.open()
        with Progress(
            TextColumn("importing"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err,
            transient=True,
            disable=as_json or not err.is_terminal,
        ) as bar:
            task = bar.add_task("import", total=None)

            def advance(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            report = import_catalog(k, catalog, progress=advance)
        k.sync_index()
        summary = report.to_dict()
        if as_json:
            print_json(summary)
        else:
            out.print(
                f"{catalog}: {summary['created']} created, {summary['updated']} updated, "
                f"{summary['unchanged']} unchanged, {len(summary['errors'])} errors"
            )
            for error in report.errors:
                err.print(f"  line {error.line}: {error.error}", highlight=False, markup=False)
        if report.errors:
            raise typer.Exit(2)

    guarded(as_json, run)


# -- holders --------------------------------------------------------------------------------
@holder_app.command("add")
def holder_add(
    name: str,
    country: Annotated[str | None, typer.Option(help="ISO 3166 code, e.g. JP.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Register a rights holder."""

    def run() -> None:
        with state.open().transaction() as tx:
            view = holder_view(tx.registry.add_holder(name, country))
        _show(view, as_json, "holder")

    guarded(as_json, run)


@holder_app.command("list")
def holder_list(as_json: JsonOpt = False) -> None:
    """List rights holders."""

    def run() -> None:
        with state.open().transaction() as tx:
            views = [holder_view(h) for h in tx.registry.holders()]
        _list(views, as_json, "Rights holders", ["id", "name", "country"])

    guarded(as_json, run)


@holder_app.command("show")
def holder_show(holder: str, as_json: JsonOpt = False) -> None:
    """Show a holder and its works (by id or name)."""

    def run() -> None:
        with state.open().transaction() as tx:
            found = tx.registry.holder(holder)
            view = holder_view(found) | {
                "works": [w.title for w in tx.registry.works(found)],
            }
        _show(view, as_json, "holder")

    guarded(as_json, run)


# -- works ----------------------------------------------------------------------------------
@work_app.command("add")
def work_add(
    title: str,
    holder: Annotated[str, typer.Option(help="Holder id or name.")],
    alt_title: Annotated[
        list[str] | None, typer.Option("--title", help="Another title (any script); repeatable.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Register a work of a holder."""

    def run() -> None:
        with state.open().transaction() as tx:
            owner = tx.registry.holder(holder)
            work = tx.registry.add_work(owner, title, [NameSpec(t) for t in alt_title or []])
            view = work_view(work, _names(tx, work, None))
        _show(view, as_json, "work")

    guarded(as_json, run)


@work_app.command("list")
def work_list(
    holder: Annotated[str | None, typer.Option(help="Only this holder's works.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List works."""

    def run() -> None:
        with state.open().transaction() as tx:
            owner = tx.registry.holder(holder) if holder else None
            views = [work_view(w) for w in tx.registry.works(owner)]
        _list(views, as_json, "Works", ["id", "title", "holder", "country"])

    guarded(as_json, run)


@work_app.command("show")
def work_show(work: str, as_json: JsonOpt = False) -> None:
    """Show a work (by id or any of its titles), its characters and references."""

    def run() -> None:
        with state.open().transaction() as tx:
            found = tx.registry.work(work)
            view = work_view(found, _names(tx, found, None)) | {
                "descriptions": [d.text for d in tx.registry.descriptions(found, None)],
                "characters": [c.name for c in tx.registry.characters(found)],
                "references": [
                    reference_view(r) for r in tx.registry.references(found, exact_subject=True)
                ],
            }
        _show(view, as_json, "work")

    guarded(as_json, run)


# -- characters -----------------------------------------------------------------------------
@character_app.command("add")
def character_add(
    name: str,
    work: Annotated[str, typer.Option(help="Work id or title.")],
    alt_name: Annotated[
        list[str] | None,
        typer.Option("--name", help="Another name or alias (kanji, kana, romaji...); repeatable."),
    ] = None,
    description: Annotated[
        list[str] | None, typer.Option(help="Distinctive traits, free text; repeatable.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Register a character of a work."""

    def run() -> None:
        with state.open().transaction() as tx:
            found = tx.registry.work(work)
            character = tx.registry.add_character(
                found, name, [NameSpec(n) for n in alt_name or []], description or []
            )
            view = _character_detail(tx, character)
        _show(view, as_json, "character")

    guarded(as_json, run)


@character_app.command("list")
def character_list(
    work: Annotated[str | None, typer.Option(help="Only this work's characters.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List characters with their names in every script."""

    def run() -> None:
        with state.open().transaction() as tx:
            found = tx.registry.work(work) if work else None
            views = [
                character_view(c, names=tx.registry.names(c.work, c))
                for c in tx.registry.characters(found)
            ]
        if as_json:
            print_json(views)
            return
        rows = [
            (v["id"], v["name"], v["work"], v["holder"], ", ".join(n["text"] for n in v["names"]))
            for v in views
        ]
        table("Characters", ["id", "name", "work", "holder", "names"], rows)

    guarded(as_json, run)


@character_app.command("show")
def character_show(
    character: str,
    work: Annotated[str | None, typer.Option(help="Work, when the name is ambiguous.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Show a character (by id or any name): names, descriptions, references."""

    def run() -> None:
        with state.open().transaction() as tx:
            scope = tx.registry.work(work) if work else None
            view = _character_detail(tx, tx.registry.character(character, scope))
        _show(view, as_json, "character")

    guarded(as_json, run)


def _character_detail(tx: kenri.Transaction, character) -> dict:
    return character_view(
        character,
        names=tx.registry.names(character.work, character),
        descriptions=tx.registry.descriptions(character.work, character),
        references=tx.registry.references(character=character),
    )


def _names(tx: kenri.Transaction, work, character) -> list[dict]:
    from kenri.registry.views import name_views

    return name_views(tx.registry.names(work, character))


# -- references -----------------------------------------------------------------------------
@reference_app.command("add")
def reference_add(
    paths: Annotated[list[Path], typer.Argument(help="Image or video files.")],
    work: Annotated[str | None, typer.Option(help="Work id or title.")] = None,
    character: Annotated[str | None, typer.Option(help="Character id or name.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Add reference media to a work or character; bad files are reported, the rest added."""

    def run() -> None:
        k = state.open()
        with k.transaction() as tx:
            subject = _subject(tx, work, character)  # unknown subject: error before any file
        results = []
        for path in paths:
            try:
                with k.transaction() as tx:
                    w, c = tx.session.merge(subject[0]), subject[1] and tx.session.merge(subject[1])
                    reference, created = tx.registry.add_reference(path, w, c)
                    results.append(reference_view(reference) | {"created": created})
            except MediaError as exc:  # a bad file is reported; the others are still added
                results.append({"input": str(path), "error": str(exc)})
        k.sync_index()
        if as_json:
            print_json(results)
        else:
            for r in results:
                if "error" in r:
                    err.print(f"[red]error:[/] {r['error']}", highlight=False)
                else:
                    verb = "added" if r["created"] else "already registered"
                    out.print(f"reference {r['id']}: {r['original_name']} ({r['kind']}) {verb}")
        if any("error" in r for r in results):
            raise typer.Exit(2)

    guarded(as_json, run)


@reference_app.command("list")
def reference_list(
    work: Annotated[str | None, typer.Option(help="Work id or title.")] = None,
    character: Annotated[str | None, typer.Option(help="Character id or name.")] = None,
    include_removed: Annotated[bool, typer.Option("--all", help="Include removed ones.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """List reference media."""

    def run() -> None:
        with state.open().transaction() as tx:
            w, c = _subject(tx, work, character) if (work or character) else (None, None)
            views = [reference_view(r) for r in tx.registry.references(w, c, include_removed)]
        _list(
            views,
            as_json,
            "References",
            ["id", "work", "character", "kind", "width", "height", "original_name", "sha256"],
        )

    guarded(as_json, run)


@reference_app.command("show")
def reference_show(reference: str, as_json: JsonOpt = False) -> None:
    """Show one reference and where its file is stored."""

    def run() -> None:
        with state.open().transaction() as tx:
            found = tx.registry.reference(reference)
            view = reference_view(found) | {"path": str(tx.registry.media_path(found))}
        _show(view, as_json, "reference")

    guarded(as_json, run)


@reference_app.command("remove")
def reference_remove(reference: str, as_json: JsonOpt = False) -> None:
    """Retire a reference (kept in history so past decisions stay explainable)."""

    def run() -> None:
        with state.open().transaction() as tx:
            view = reference_view(tx.registry.remove_reference(tx.registry.reference(reference)))
        state.open().sync_index()
        _show(view, as_json, "reference")

    guarded(as_json, run)


# -- licensees ------------------------------------------------------------------------------
@licensee_app.command("add")
def licensee_add(
    name: str,
    country: Annotated[str | None, typer.Option(help="ISO 3166 code.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Register a licensee (an AI company)."""

    def run() -> None:
        with state.open().transaction() as tx:
            view = licensee_view(tx.registry.add_licensee(name, country))
        _show(view, as_json, "licensee")

    guarded(as_json, run)


@licensee_app.command("list")
def licensee_list(as_json: JsonOpt = False) -> None:
    """List licensees."""

    def run() -> None:
        with state.open().transaction() as tx:
            views = [licensee_view(item) for item in tx.registry.licensees()]
        _list(views, as_json, "Licensees", ["id", "name", "country"])

    guarded(as_json, run)


@licensee_app.command("show")
def licensee_show(licensee: str, as_json: JsonOpt = False) -> None:
    """Show a licensee and its grants."""

    def run() -> None:
        with state.open().transaction() as tx:
            found = tx.registry.licensee(licensee)
            view = licensee_view(found) | {
                "grants": [grant_view(g) for g in tx.ledger.grants(licensee=found)]
            }
        _show(view, as_json, "licensee")

    guarded(as_json, run)


# -- grants ---------------------------------------------------------------------------------
@grant_app.command("add")
def grant_add(
    licensee: Annotated[str, typer.Option(help="Licensee id or name.")],
    purpose: Annotated[
        list[str],
        typer.Option(help="training, generation, style (works) or likeness (persons); repeatable."),
    ],
    work: Annotated[str | None, typer.Option(help="Grant on a whole work.")] = None,
    character: Annotated[str | None, typer.Option(help="Grant on one character.")] = None,
    territory: Annotated[
        list[str] | None, typer.Option(help="ISO 3166 code or '*'; repeatable (default '*').")
    ] = None,
    valid_from: Annotated[str | None, typer.Option("--from", help="Start (default now).")] = None,
    valid_until: Annotated[
        str | None, typer.Option("--until", help="End, exclusive (default open).")
    ] = None,
    fee: Annotated[str | None, typer.Option(help="Fee, free text (e.g. 'JPY 1,000,000').")] = None,
    revenue_share: Annotated[float | None, typer.Option(help="Fraction, 0..1.")] = None,
    terms: Annotated[str | None, typer.Option(help="Other terms, free text.")] = None,
    person: Annotated[str | None, typer.Option(help="Grant likeness of a person.")] = None,
    user: Annotated[
        list[str] | None,
        typer.Option(help="Only for this end user of the licensee; repeatable (default all)."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Grant a licensee the use of a work, character or person for purposes, places and time."""

    def run() -> None:
        with state.open().transaction() as tx:
            w, c = _subject(tx, person or work, character)
            grant = tx.ledger.grant(
                tx.registry.licensee(licensee),
                c or w,
                purpose,
                territory,
                parse_moment(valid_from, "--from"),
                parse_moment(valid_until, "--until"),
                fee,
                revenue_share,
                terms,
                users=user,
            )
            view = grant_view(grant)
        _show(view, as_json, "grant")

    guarded(as_json, run)


@grant_app.command("list")
def grant_list(
    licensee: Annotated[str | None, typer.Option(help="Only this licensee's grants.")] = None,
    work: Annotated[str | None, typer.Option(help="Only grants on this work.")] = None,
    character: Annotated[str | None, typer.Option(help="Only grants on this character.")] = None,
    active: Annotated[bool, typer.Option(help="Hide revoked grants.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """List grants, revoked ones included unless --active."""

    def run() -> None:
        with state.open().transaction() as tx:
            found = tx.registry.licensee(licensee) if licensee else None
            w, c = _subject(tx, work, character) if (work or character) else (None, None)
            views = [
                grant_view(g) for g in tx.ledger.grants(found, w, c, include_revoked=not active)
            ]
        _list(
            views,
            as_json,
            "Grants",
            [
                "id",
                "licensee",
                "work",
                "character",
                "purposes",
                "territories",
                "valid_from",
                "valid_until",
                "revoked_at",
            ],
        )

    guarded(as_json, run)


@grant_app.command("show")
def grant_show(grant: str, as_json: JsonOpt = False) -> None:
    """Show one grant."""

    def run() -> None:
        with state.open().transaction() as tx:
            view = grant_view(tx.ledger.get(grant))
        _show(view, as_json, "grant")

    guarded(as_json, run)


@grant_app.command("revoke")
def grant_revoke(
    grant: str,
    reason: Annotated[str, typer.Option(help="Why; kept in the ledger.")],
    at: Annotated[str | None, typer.Option(help="Effective moment (default now).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Revoke a grant. It stays in the ledger with when and why; it is never deleted."""

    def run() -> None:
        with state.open().transaction() as tx:
            found = tx.ledger.get(grant)
            view = grant_view(tx.ledger.revoke(found, reason, parse_moment(at, "--at")))
        _show(view, as_json, "grant")

    guarded(as_json, run)


# -- consent --------------------------------------------------------------------------------
@consent_app.command("check")
def consent_check(
    licensee: Annotated[str, typer.Option(help="Licensee id or name.")],
    purpose: Annotated[str, typer.Option(help="training, generation or style.")],
    work: Annotated[str | None, typer.Option(help="Work id or title.")] = None,
    character: Annotated[str | None, typer.Option(help="Character id or name.")] = None,
    territory: Annotated[str | None, typer.Option(help="ISO 3166 code.")] = None,
    at: Annotated[str | None, typer.Option(help="Moment to ask about (default now).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """May this licensee use this work or character for this purpose, here and now?"""

    def run() -> None:
        with state.open().transaction() as tx:
            w, c = _subject(tx, work, character)
            decision = tx.ledger.may(
                tx.registry.licensee(licensee), c or w, purpose, territory, parse_moment(at, "--at")
            )
            view = decision.to_dict()
        if as_json:
            print_json(view)
        else:
            colour = "green" if view["decision"] == "allow" else "red"
            out.print(f"[bold {colour}]{view['decision']}[/]: {view['reason']}", highlight=False)

    guarded(as_json, run)


# -- screening ------------------------------------------------------------------------------
LicenseeOpt = Annotated[
    str | None, typer.Option(help="Licensee whose grants apply (none: every match counts).")
]
PurposeOpt = Annotated[str, typer.Option(help="training, generation or style.")]
TerritoryOpt = Annotated[str | None, typer.Option(help="ISO 3166 code for the grants.")]
TopOpt = Annotated[
    int | None, typer.Option(help="List up to K best candidates, even below the review threshold.")
]
UserOpt = Annotated[
    str | None, typer.Option(help="The licensee's end user (for grants limited to users).")
]
ReviewOpt = Annotated[float | None, typer.Option(help="Score from which a match needs review.")]
BlockOpt = Annotated[float | None, typer.Option(help="Score from which a match blocks.")]


def _thresholds(review: float | None, block: float | None):
    from kenri.matching import scoring
    from kenri.screening.decision import Thresholds

    return Thresholds(
        review if review is not None else scoring.REVIEW_THRESHOLD,
        block if block is not None else scoring.BLOCK_THRESHOLD,
    )


def _print_screen(result: dict, as_json: bool) -> None:
    if as_json:
        print_json(result)
        return
    if "error" in result:
        err.print(f"[red]error[/] {result['input']}: {result['error']}", highlight=False)
        return
    colour = {"block": "red", "review": "yellow", "allow": "green"}[result["decision"]]
    out.print(f"[bold {colour}]{result['decision']:6}[/] {result['input']}", highlight=False)
    for match in result["matches"]:
        grant = f" (grant {match['grant']['id']})" if match["grant"] else ""
        who = match["character"] or match["work"]
        out.print(
            f"        {match['score']:.3f} {who} / {match['holder']} "
            f"(reference {match['reference_id']}: {match['reference']}){grant}",
            highlight=False,
        )
    for segment in result.get("segments") or []:
        out.print(
            f"        {segment['start']:.1f}-{segment['end']:.1f}s ~ {segment['reference']}"
            f" {segment['reference_start']}-{segment['reference_end']}s",
            highlight=False,
        )


@screen_app.command("image")
def screen_image(
    paths: Annotated[list[Path], typer.Argument(help="Image files.")],
    licensee: LicenseeOpt = None,
    purpose: PurposeOpt = "generation",
    territory: TerritoryOpt = None,
    top: TopOpt = None,
    review_threshold: ReviewOpt = None,
    block_threshold: BlockOpt = None,
    user: UserOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Screen images: one JSON object per input, in input order (JSON Lines with --json)."""

    def run() -> None:
        k = state.open()
        failed = False
        for result in k.screen_images(
            paths,
            licensee=licensee,
            purpose=purpose,
            territory=territory,
            top=top,
            thresholds=_thresholds(review_threshold, block_threshold),
            user=user,
        ):
            failed |= result.error is not None
            _print_screen(result.to_dict(), as_json)
        if failed:
            raise typer.Exit(2)

    guarded(as_json, run)


@screen_app.command("dataset")
def screen_dataset(
    source: Annotated[
        Path, typer.Argument(help="img2dataset/webdataset folder, media folder, or manifest.")
    ],
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the outputs.")],
    licensee: LicenseeOpt = None,
    territory: TerritoryOpt = None,
    engine: Annotated[str, typer.Option(help="local (process pool) or ray.")] = "local",
    ray_address: Annotated[
        str | None, typer.Option(help="A Ray cluster's address (engine ray); default: local.")
    ] = None,
    workers: Annotated[int, typer.Option(help="Processes screening shards at once.")] = 1,
    exclude_review: Annotated[
        bool, typer.Option(help="Leave uncertain items out of the filtered shards too.")
    ] = False,
    caption_descriptions: Annotated[
        bool,
        typer.Option(help="Also match captions against character descriptions (slower)."),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Screen a training dataset (purpose: training): decisions.parquet, filtered shards,
    report.json and report.html in --out. Resumable: run it again to finish a stopped run."""

    def run() -> None:
        from kenri.screening.dataset.run import screen_dataset as screen

        summary = screen(
            state.open(),
            source,
            out_dir,
            licensee=licensee,
            territory=territory,
            engine=engine,
            workers=workers,
            exclude_review=exclude_review,
            ray_address=ray_address,
            caption_descriptions=caption_descriptions,
        )
        if as_json:
            print_json(summary.to_dict())
        else:
            out.print(summary.line(), highlight=False)

    guarded(as_json, run)


@screen_app.command("video")
def screen_video(
    path: Annotated[Path, typer.Argument(help="Video file.")],
    licensee: LicenseeOpt = None,
    purpose: PurposeOpt = "generation",
    territory: TerritoryOpt = None,
    top: TopOpt = None,
    review_threshold: ReviewOpt = None,
    block_threshold: BlockOpt = None,
    user: UserOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Screen a video: matches and the segments where copies appear (query and reference times)."""

    def run() -> None:
        result = state.open().screen_video(
            path,
            licensee=licensee,
            purpose=purpose,
            territory=territory,
            top=top,
            thresholds=_thresholds(review_threshold, block_threshold),
            user=user,
        )
        _print_screen(result.to_dict(), as_json)
        if result.error is not None:
            raise typer.Exit(2)

    guarded(as_json, run)


@screen_app.command("prompt")
def screen_prompt(
    prompts: Annotated[
        list[str] | None, typer.Argument(help="Prompts (each one argument).")
    ] = None,
    file: Annotated[
        Path | None,
        typer.Option("--file", "-f", help="One prompt per line ('-' for standard input)."),
    ] = None,
    licensee: LicenseeOpt = None,
    purpose: PurposeOpt = "generation",
    territory: TerritoryOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Screen prompts for registered names (any script, obfuscated, misspelt), descriptions
    of registered characters, and style use. With --json: one JSON object per prompt, in order;
    a prompt that cannot be screened gets {"prompt", "line", "error"} and the rest go on."""

    def run() -> None:
        texts = list(prompts or [])
        if file is not None:
            texts += _read_prompt_lines(file)
        if not texts:
            raise KenriError("give prompts as arguments or --file PROMPTS.txt")
        k = state.open()
        failed = 0
        for line, prompt in enumerate(texts, start=1):
            try:
                result = k.screen_prompt(
                    prompt, licensee=licensee, purpose=purpose, territory=territory
                )
            except InvalidInput as exc:
                failed += 1
                _show_prompt_error(prompt, line, str(exc), as_json)
                continue
            _show_prompt_result(result.to_dict(), as_json)
        if failed:
            raise typer.Exit(2)  # as for images: some inputs could not be screened

    guarded(as_json, run)


def _read_prompt_lines(file: Path) -> list[str]:
    try:
        raw = sys.stdin.buffer.read() if str(file) == "-" else file.read_bytes()
    except OSError as exc:
        raise KenriError(f"cannot read {file}: {exc.strerror or exc}") from None
    text = raw.decode("utf-8", errors="replace")  # a stray byte costs one character, not a run
    return [line for line in text.splitlines() if line.strip()]


def _show_prompt_error(prompt: str, line: int, error: str, as_json: bool) -> None:
    if as_json:
        print_json({"prompt": prompt[:200], "line": line, "error": error})
    else:
        out.print(f"[bold red]error [/] line {line}: {error}", highlight=False)


def _show_prompt_result(view: dict, as_json: bool) -> None:
    if as_json:
        print_json(view)
        return
    colour = {"block": "red", "review": "yellow", "allow": "green"}[view["decision"]]
    out.print(f"[bold {colour}]{view['decision']:6}[/] {view['prompt']}", highlight=False)
    for match in view["matches"]:
        grant = f" (grant {match['grant']['id']})" if match["grant"] else ""
        matched = match["matched"] if len(match["matched"]) < 80 else match["matched"][:77] + "..."
        out.print(
            f"        {match['score']:.2f} {match['reference']} "
            f"{match['character'] or match['work']} / {match['holder']}: "
            f"{match['reason']} {matched!r}{grant}",
            highlight=False,
        )
    if view["rewrite"] is not None:
        out.print(f"        rewrite: {view['rewrite']!r}", highlight=False)
        out.print(f"        negative: {', '.join(view['negative_terms'])}", highlight=False)


@index_app.command("status")
def index_status(as_json: JsonOpt = False) -> None:
    """What the indexes hold, after bringing them up to date."""

    def run() -> None:
        k = state.open()
        k.sync_index()
        snapshot = k.matcher.snapshot
        view = {
            "items": snapshot.manifest.items,
            "last_fingerprint_id": snapshot.manifest.last_fingerprint_id,
            "codes": {name: index.ntotal for name, index in snapshot.indexes.items()},
            "ivf": snapshot.indexes["orb"].is_ivf,
        }
        _show(view, as_json, "index")

    guarded(as_json, run)


@index_app.command("rebuild")
def index_rebuild(as_json: JsonOpt = False) -> None:
    """Rebuild the indexes from the registry's fingerprints (e.g. after a crash or restore)."""

    def run() -> None:
        items = state.open().rebuild_index()
        _show({"items": items}, as_json, "index")

    guarded(as_json, run)


# -- demo -----------------------------------------------------------------------------------
@app.command()
def demo(
    home: Annotated[
        Path | None,
        typer.Option(help="Where the demo registry goes (default: <data folder>/demo, reset)."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Run the end-to-end demo on embedded defaults (SQLite, local files, no server)."""
    from kenri.demo.run import run_demo

    def run() -> None:
        target = home or (kenri.config.Settings.resolve(state.home).home / "demo")
        if as_json:  # the narrative goes nowhere; stdout carries only the JSON answers
            print_json(run_demo(Path(target), Console(file=io.StringIO())))
        else:
            run_demo(Path(target), out)

    guarded(as_json, run)


# -- helpers --------------------------------------------------------------------------------
def _subject(tx: kenri.Transaction, work: str | None, character: str | None):
    """Resolve --work / --character: a character (optionally within a work) or a whole work."""
    if not work and not character:
        raise InvalidInput("give --work or --character")
    scope = tx.registry.work(work) if work else None
    if character:
        found = tx.registry.character(character, scope)
        return found.work, found
    return scope, None


def _show(view: dict, as_json: bool, what: str) -> None:
    if as_json:
        print_json(view)
        return
    table(what, ["field", "value"], [(k, _plain(v)) for k, v in view.items()])


def _list(views: list[dict], as_json: bool, title: str, columns: list[str]) -> None:
    if as_json:
        print_json(views)
        return
    table(title, columns, [[_plain(v.get(c)) for c in columns] for v in views])


def _plain(value) -> str:
    if isinstance(value, list):
        return ", ".join(
            v.get("text") or v.get("original_name") or str(v) if isinstance(v, dict) else str(v)
            for v in value
        )
    return "" if value is None else str(value)


# The service's commands register themselves on ``app`` (kept apart: this file is long enough).
from kenri.cli import likeness as _likeness  # noqa: E402, F401
from kenri.cli import maintenance as _maintenance  # noqa: E402, F401
from kenri.cli import provenance as _provenance  # noqa: E402, F401
from kenri.cli import service as _service  # noqa: E402, F401
