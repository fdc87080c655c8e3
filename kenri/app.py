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
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from kenri.config import Settings
from kenri.consent.ledger import ConsentLedger
from kenri.db import Database
from kenri.fingerprints import reference_signals
from kenri.fingerprints.learned import descriptor_from_config
from kenri.registry.media import MediaStore
from kenri.registry.registry import Registry

if TYPE_CHECKING:
    from kenri.likeness.index import FaceIndex
    from kenri.matching.matcher import Matcher
    from kenri.screening.media import ScreenResult, Source
    from kenri.screening.prompt.screen import PromptResult, PromptScreener


@dataclass(frozen=True)
class Transaction:
    session: Session
    registry: Registry
    ledger: ConsentLedger
    actor: str = "local"  # who acts, for the audit log: a tenant, or "local" (CLI, Python)
    # Facts read once per transaction (e.g. the registry's row counts); any flush clears it.
    memo: dict[str, Any] = field(default_factory=dict)


class Kenri:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        settings.home.mkdir(parents=True, exist_ok=True)
        settings.media_dir.mkdir(parents=True, exist_ok=True)
        self.db = Database(settings.db_url)
        self.media = MediaStore(settings.media_dir)
        self._matcher: Matcher | None = None
        self._face_index: FaceIndex | None = None
        self._prompt_screener: PromptScreener | None = None
        self.descriptor = descriptor_from_config(settings.descriptor)
        self.signals = reference_signals(self.descriptor)

    @contextmanager
    def transaction(self, actor: str = "local") -> Iterator[Transaction]:
        """Commit when the block ends normally, roll back on any exception.

        ``actor`` names who acts in the audit log (the service passes the tenant).
        """
        with self.db.session() as session:
            registry = Registry(session, self.media, self.signals)
            tx = Transaction(session, registry, ConsentLedger(session, actor), actor)
            event.listen(session, "after_flush", lambda *_: tx.memo.clear())
            yield tx

    @property
    def face_index(self) -> FaceIndex:
        """Registered persons' face descriptors (empty, and free, when nobody registered)."""
        if self._face_index is None:
            from kenri.likeness.index import FaceIndex

            self._face_index = FaceIndex()
        return self._face_index

    @property
    def matcher(self) -> Matcher:
        """The media matcher over this registry's indexes (loaded on first use)."""
        if self._matcher is None:
            from kenri.matching.matcher import Matcher

            self._matcher = Matcher(self.settings.home / "index", self.descriptor)
        return self._matcher

    @property
    def prompt_screener(self) -> PromptScreener:
        """Prompt screening over this registry's names (rebuilt when the names change)."""
        if self._prompt_screener is None:
            from kenri.screening.prompt.screen import PromptScreener
            from kenri.text.embedder import embedder_from_config

            self._prompt_screener = PromptScreener(
                embedder_from_config(), self.settings.home / "cache" / "text"
            )
        return self._prompt_screener

    def screen_prompt(self, prompt: str, **options: Any) -> PromptResult:
        """Screen one prompt. Options: licensee, purpose ("generation"), territory."""
        return self.screen_prompts([prompt], **options)[0]

    def screen_prompts(self, prompts: Iterable[str], **options: Any) -> list[PromptResult]:
        from kenri.screening.prompt.screen import screen_prompts

        return screen_prompts(self, list(prompts), **options)

    def sync_index(self) -> bool:
        """Bring the search indexes up to date with the registry (after imports, removals)."""
        with self.transaction() as tx:
            return self.matcher.sync(tx.session)

    def rebuild_index(self) -> int:
        """Rebuild the search indexes from the registry; returns the frames indexed.

        Signals a reference lacks (a descriptor configured after its import) are computed first.
        """
        with self.transaction() as tx:
            tx.registry.fill_missing_fingerprints()
        with self.transaction() as tx:
            return self.matcher.rebuild(tx.session)

    def screen_image(self, source: Source, **options: Any) -> ScreenResult:
        """Screen one image (path, bytes or RGB array); see ``screen_images`` for options."""
        return next(self.screen_images([source], **options))

    def screen_images(self, sources: Iterable[Source], **options: Any) -> Iterator[ScreenResult]:
        """Screen images in order. Options: licensee, purpose ("generation"), territory,
        top (list up to K candidates even below the review threshold), thresholds."""
        from kenri.screening.media import screen_images

        return screen_images(self, sources, **options)

    def screen_video(self, source: str | os.PathLike[str], **options: Any) -> ScreenResult:
        """Screen a video file: matches plus the segments where copies appear."""
        from kenri.screening.media import screen_video

        return screen_video(self, source, **options)

    def close(self) -> None:
        self.db.dispose()

    def __enter__(self) -> Kenri:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def open(  # noqa: A001 - mirrors the builtin on purpose: kenri.open(...)
    home: str | os.PathLike[str] | None = None,
    db: str | None = None,
    descriptor: str | None = None,
) -> Kenri:
    """Open (and create or migrate) the registry in ``home`` / ``db``.

    ``descriptor`` (or ``KENRI_DESCRIPTOR``) adds a learned global descriptor: "efficientnet"
    or the path of an ONNX model.
    """
    return Kenri(Settings.resolve(home, db, descriptor))
