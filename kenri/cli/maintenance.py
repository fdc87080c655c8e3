"""``kenri export``, ``kenri restore``, ``kenri doctor``: backups and consistency checks."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kenri.cli.main import JsonOpt, app, state
from kenri.cli.output import guarded, out, print_json


@app.command("export")
def export_(
    out_dir: Annotated[Path, typer.Argument(help="A new folder for the export.")],
    as_json: JsonOpt = False,
) -> None:
    """Export the registry, media, grants, ledgers and audit log (checksummed) to a folder."""
    from kenri.maintenance.backup import export

    def run() -> None:
        k = state.open()
        summary = export(k.db.engine, k.settings.media_dir, out_dir).to_dict()
        if as_json:
            print_json(summary)
        else:
            rows = sum(summary["rows"].values())
            out.print(f"exported {rows} rows and {summary['media_files']} media files "
                      f"to {summary['path']}")  # fmt: skip

    guarded(as_json, run)


@app.command("restore")
def restore_(
    folder: Annotated[Path, typer.Argument(help="A folder written by kenri export.")],
    as_json: JsonOpt = False,
) -> None:
    """Restore an export into an empty database; checks every hash first, then the audit chain,
    then rebuilds the search indexes."""
    import kenri
    from kenri.config import Settings
    from kenri.maintenance.backup import restore

    def run() -> None:
        settings = Settings.resolve(state.home, state.db)
        settings.media_dir.mkdir(parents=True, exist_ok=True)
        counts = restore(folder, settings.db_url, settings.media_dir)
        with kenri.open(settings.home, settings.db_url) as k:
            frames = k.rebuild_index()
        result = {"rows": counts, "index_frames": frames, "audit": "verified"}
        if as_json:
            print_json(result)
        else:
            out.print(f"restored {sum(counts.values())} rows; audit chain verified; "
                      f"index rebuilt ({frames} frames)")  # fmt: skip

    guarded(as_json, run)


@app.command("doctor")
def doctor(
    repair: Annotated[
        bool, typer.Option(help="Fix what is derived: indexes, fingerprints, partial copies.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Check that registry, media, index and audit log agree. Exit 1 when something is wrong
    (and was not repaired)."""
    from kenri.maintenance.doctor import examine

    def run() -> None:
        report = examine(state.open(), repair=repair)
        if as_json:
            print_json(report.to_dict())
        else:
            for finding in report.findings:
                mark = "ok" if finding.ok else ("repaired" if finding.repaired else "PROBLEM")
                out.print(f"{mark:9} {finding.check}: {finding.detail}")
        if not report.ok:
            raise typer.Exit(1)

    guarded(as_json, run)
