"""How the CLI speaks: JSON on stdout with ``--json``, rich tables otherwise, errors on stderr."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError

from kenri.errors import KenriError

out = Console(soft_wrap=True)
err = Console(stderr=True)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=None, default=str) + "\n")


def table(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    grid = Table(title=title, show_lines=False)
    for column in columns:
        grid.add_column(column)
    for row in rows:
        grid.add_row(*("" if v is None else str(v) for v in row))
    out.print(grid)


def fail(message: str, as_json: bool, code: int = 1) -> NoReturn:
    if as_json:
        print_json({"error": message})
    else:
        err.print(f"[bold red]error:[/] {message}", highlight=False, markup=True)
    raise typer.Exit(code)


def guarded(as_json: bool, action: Callable[[], None]) -> None:
    """Run a command body; a ``KenriError`` or database failure becomes a clear message (exit 1)."""
    try:
        action()
    except KenriError as exc:
        fail(str(exc), as_json)
    except SQLAlchemyError as exc:  # unreachable server, wrong URL, missing schema...
        detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        fail(f"database error: {detail}", as_json)


def parse_moment(value: str | None, what: str) -> datetime | None:
    """Accept ``2026-04-01`` (midnight UTC) or a full ISO 8601 timestamp."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise KenriError(f"{what}: not a date (YYYY-MM-DD or ISO 8601): {value!r}") from None
        moment = datetime(day.year, day.month, day.day)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
