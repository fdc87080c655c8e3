"""The entry point for Python users: ``kenri.open()`` returns a ``Kenri`` bound to a data folder.

Every unit of work is one transaction::

    k = kenri.open()                      # KENRI_HOME / KENRI_DB, or the defaults
    with k.transaction() as tx:
        pikachu = tx.registry.character("Pikachu")
        acme = tx.registry.licensee("Acme AI")
        decision = tx.ledger.may(acme, pikachu, "generation", territory="JP")
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy.orm import Session

from kenri.config import Settings
from kenri.consent.ledger import ConsentLedger
from kenri.db import Database
from kenri.registry.media import MediaStore
from kenri.registry.registry import Registry


@dataclass(frozen=True)
class Transaction:
    session: Session
    registry: Registry
    ledger: ConsentLedger


class Kenri:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        settings.home.mkdir(parents=True, exist_ok=True)
        settings.media_dir.mkdir(parents=True, exist_ok=True)
        self.db = Database(settings.db_url)
        self.media = MediaStore(settings.media_dir)

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """Commit when the block ends normally, roll back on any exception."""
        with self.db.session() as session:
            yield Transaction(session, Registry(session, self.media), ConsentLedger(session))

    def close(self) -> None:
        self.db.dispose()

    def __enter__(self) -> Kenri:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def open(  # noqa: A001 - mirrors the builtin on purpose: kenri.open(...)
    home: str | os.PathLike[str] | None = None, db: str | None = None
) -> Kenri:
    """Open (and create or migrate) the registry in ``home`` / ``db``."""
    return Kenri(Settings.resolve(home, db))
