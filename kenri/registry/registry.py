"""Registry operations inside one database session: add, look up, list, sync.

``Registry`` is bound to a session so that a catalog line, a CLI command or an API request is
one transaction; the ``Kenri`` facade (``kenri.open()``) hands one out per transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from kenri.db import hold_transaction_lock
from kenri.errors import Ambiguous, InvalidInput, NotFound
from kenri.fingerprints import REFERENCE_SIGNALS, Signal, fingerprint_media
from kenri.registry.media import MediaInfo, MediaStore, probe_media
from kenri.registry.models import (
    ORIGIN_MANUAL,
    Character,
    Description,
    FingerprintRow,
    Holder,
    Licensee,
    Name,
    Reference,
    Work,
    utcnow,
)
from kenri.registry.names import SCRIPTS, detect_script, name_key

FINGERPRINT_WRITES_LOCK = 0x6B656E7266  # "kenrf": one PostgreSQL advisory lock key


def serialise_fingerprint_writes(session: Session) -> None:
    """Make fingerprint rows commit in id order: hold a lock until this transaction ends.

    Readers keep the index in step by remembering the highest row id they have seen. On
    PostgreSQL two writers could otherwise commit ids 11 and 12 out of order, and a reader
    that saw 12 first would skip 11 for ever. SQLite already has one writer at a time.
    """
    hold_transaction_lock(session, FINGERPRINT_WRITES_LOCK)


MAX_NAME_LENGTH = 300


@dataclass(frozen=True)
class NameSpec:
    """A name as given by a holder; ``script`` is detected when not given."""

    text: str
    script: str | None = None
    lang: str | None = None

    def resolved(self) -> NameSpec:
        text = " ".join(self.text.split())
        if not text:
            raise InvalidInput("a name must not be empty")
        if len(text) > MAX_NAME_LENGTH:
            raise InvalidInput(f"name longer than {MAX_NAME_LENGTH} characters: {text[:40]}...")
        script = self.script or detect_script(text)
        if script not in SCRIPTS and script not in ("romaji", "english"):
            raise InvalidInput(f"unknown script {script!r}")
        return NameSpec(text, script, self.lang)


@dataclass(frozen=True)
class SyncResult:
    added: int = 0
    removed: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed)


def _clean(text: str, what: str) -> str:
    text = " ".join((text or "").split())
    if not text:
        raise InvalidInput(f"{what} must not be empty")
    if len(text) > MAX_NAME_LENGTH:
        raise InvalidInput(f"{what} longer than {MAX_NAME_LENGTH} characters")
    return text


def _as_id(ref: int | str) -> int | None:
    if isinstance(ref, int):
        return ref
    ref = ref.strip()
    if ref.startswith("#"):
        ref = ref[1:]
    return int(ref) if ref.isdigit() else None


class Registry:
    def __init__(
        self, session: Session, media: MediaStore, signals: tuple[Signal, ...] | None = None
    ) -> None:
        self.session = session
        self.media = media
        self.signals = signals if signals is not None else REFERENCE_SIGNALS

    # -- holders ---------------------------------------------------------------------------
    def add_holder(self, name: str, country: str | None = None) -> Holder:
        name = _clean(name, "holder name")
        if self.session.scalar(select(Holder).where(Holder.name == name)):
            raise InvalidInput(f"holder {name!r} already exists")
        holder = Holder(name=name, country=_country(country))
        self.session.add(holder)
        self.session.flush()
        return holder

    def ensure_holder(self, name: str, country: str | None) -> tuple[Holder, bool]:
        """Get or create; updates the country when it changed. Returns (holder, changed)."""
        name = _clean(name, "holder name")
        holder = self.session.scalar(select(Holder).where(Holder.name == name))
        if holder is None:
            return self.add_holder(name, country), True
        country = _country(country)
        if country and holder.country != country:
            holder.country = country
            return holder, True
        return holder, False

    def holder(self, ref: int | str) -> Holder:
        ident = _as_id(ref)
        holder = (
            self.session.get(Holder, ident)
            if ident is not None
            else self.session.scalar(select(Holder).where(Holder.name == str(ref).strip()))
        )
        if holder is None:
            raise NotFound(f"no holder {ref!r}")
        return holder

    def holders(self) -> Sequence[Holder]:
        return self.session.scalars(select(Holder).order_by(Holder.id)).all()

    # -- works ----------------------------------------------------------------------------
    def add_work(self, holder: Holder, title: str, titles: Iterable[NameSpec] = ()) -> Work:
        title = _clean(title, "work title")
        if self._find_work(holder, title):
            raise InvalidInput(f"work {title!r} of {holder.name} already exists")
        work = Work(holder_id=holder.id, title=title)
        self.session.add(work)
        self.session.flush()
        self.sync_names(work, None, [NameSpec(title), *titles], origin=ORIGIN_MANUAL, prune=False)
        return work

    def _find_work(self, holder: Holder, title: str) -> Work | None:
        return self.session.scalar(
            select(Work).where(Work.holder_id == holder.id, Work.title == title)
        )

    def ensure_work(self, holder: Holder, title: str) -> tuple[Work, bool]:
        title = _clean(title, "work title")
        work = self._find_work(holder, title)
        if work is not None:
            return work, False
        work = Work(holder_id=holder.id, title=title)
        self.session.add(work)
        self.session.flush()
        return work, True

    def work(self, ref: int | str, holder: Holder | None = None) -> Work:
        """A work by id, or by any of its titles (in any script, case-insensitive)."""
        ident = _as_id(ref)
        if ident is not None:
            work = self.session.get(Work, ident)
            if work is None:
                raise NotFound(f"no work with id {ident}")
            return work
        query = (
            select(Work)
            .join(Name, Name.work_id == Work.id)
            .where(Name.character_id.is_(None), Name.key == name_key(str(ref)))
        )
        if holder is not None:
            query = query.where(Work.holder_id == holder.id)
        found = self.session.scalars(query.distinct()).unique().all()
        if not found:
            found = self.session.scalars(select(Work).where(Work.title == str(ref).strip())).all()
        return _one(found, f"work {ref!r}", lambda w: f"{w.title} ({w.holder.name})")

    def works(self, holder: Holder | None = None) -> Sequence[Work]:
        query = select(Work).order_by(Work.id)
        if holder is not None:
            query = query.where(Work.holder_id == holder.id)
        return self.session.scalars(query).all()

    # -- characters -----------------------------------------------------------------------
    def add_character(
        self,
        work: Work,
        name: str,
        names: Iterable[NameSpec] = (),
        descriptions: Iterable[str] = (),
    ) -> Character:
        name = _clean(name, "character name")
        if self._find_character(work, name):
            raise InvalidInput(f"character {name!r} of {work.title} already exists")
        character = Character(work_id=work.id, name=name)
        self.session.add(character)
        self.session.flush()
        self.sync_names(work, character, [NameSpec(name), *names], ORIGIN_MANUAL, prune=False)
        self.sync_descriptions(work, character, descriptions, ORIGIN_MANUAL, prune=False)
        return character

    def _find_character(self, work: Work, name: str) -> Character | None:
        return self.session.scalar(
            select(Character).where(Character.work_id == work.id, Character.name == name)
        )

    def ensure_character(self, work: Work, name: str) -> tuple[Character, bool]:
        name = _clean(name, "character name")
        character = self._find_character(work, name)
        if character is not None:
            return character, False
        character = Character(work_id=work.id, name=name)
        self.session.add(character)
        self.session.flush()
        return character, True

    def character(self, ref: int | str, work: Work | None = None) -> Character:
        """A character by id, or by any of its names in any script (optionally within a work)."""
        ident = _as_id(ref)
        if ident is not None:
            character = self.session.get(Character, ident)
            if character is None:
                raise NotFound(f"no character with id {ident}")
            return character
        query = (
            select(Character)
            .join(Name, Name.character_id == Character.id)
            .where(Name.key == name_key(str(ref)))
        )
        if work is not None:
            query = query.where(Character.work_id == work.id)
        found = self.session.scalars(query.distinct()).unique().all()
        return _one(found, f"character {ref!r}", lambda c: f"{c.name} ({c.work.title})")

    def characters(self, work: Work | None = None) -> Sequence[Character]:
        query = select(Character).order_by(Character.id)
        if work is not None:
            query = query.where(Character.work_id == work.id)
        return self.session.scalars(query).all()

    # -- names and descriptions -----------------------------------------------------------
    def names(self, work: Work, character: Character | None) -> Sequence[Name]:
        return self.session.scalars(
            _subject_filter(select(Name), Name, work, character).order_by(Name.id)
        ).all()

    def descriptions(self, work: Work, character: Character | None) -> Sequence[Description]:
        return self.session.scalars(
            _subject_filter(select(Description), Description, work, character).order_by(
                Description.id
            )
        ).all()

    def sync_names(
        self,
        work: Work,
        character: Character | None,
        specs: Iterable[NameSpec],
        origin: str,
        prune: bool = True,
    ) -> SyncResult:
        """Make the subject's names of ``origin`` equal ``specs`` (only add when not ``prune``)."""
        by_text: dict[str, NameSpec] = {}
        for spec in specs:  # one row per text; an explicit script/lang beats a detected one
            given = spec.script is not None or spec.lang is not None
            if spec.text.strip() and (given or " ".join(spec.text.split()) not in by_text):
                spec = spec.resolved()
                by_text[spec.text] = spec
        wanted = {(s.text, s.script, s.lang): s for s in by_text.values()}
        existing = self.names(work, character)
        have_any = {(n.text, n.script, n.lang) for n in existing}
        removed = 0
        if prune:
            for row in existing:
                if row.origin == origin and (row.text, row.script, row.lang) not in wanted:
                    self.session.delete(row)
                    removed += 1
        added = 0
        for key, spec in wanted.items():
            if key not in have_any:
                self.session.add(
                    Name(
                        work_id=work.id,
                        character_id=character.id if character else None,
                        text=spec.text,
                        key=name_key(spec.text),
                        script=spec.script,
                        lang=spec.lang,
                        origin=origin,
                    )
                )
                added += 1
        self.session.flush()
        return SyncResult(added, removed)

    def sync_descriptions(
        self,
        work: Work,
        character: Character | None,
        texts: Iterable[str],
        origin: str,
        prune: bool = True,
    ) -> SyncResult:
        wanted = list(dict.fromkeys(t.strip() for t in texts if t and t.strip()))
        existing = self.descriptions(work, character)
        have_any = {d.text for d in existing}
        removed = 0
        if prune:
            for row in existing:
                if row.origin == origin and row.text not in wanted:
                    self.session.delete(row)
                    removed += 1
        added = 0
        for text in wanted:
            if text not in have_any:
                self.session.add(
                    Description(
                        work_id=work.id,
                        character_id=character.id if character else None,
                        text=text,
                        lang=_guess_lang(text),
                        origin=origin,
                    )
                )
                added += 1
        self.session.flush()
        return SyncResult(added, removed)

    # -- reference media ------------------------------------------------------------------
    def add_reference(
        self,
        path: str | Path,
        work: Work,
        character: Character | None = None,
        origin: str = ORIGIN_MANUAL,
        info: MediaInfo | None = None,
    ) -> tuple[Reference, bool]:
        """Validate, store and register a media file; (reference, created). Idempotent."""
        path = Path(path)
        info = info or probe_media(path)
        existing = self.session.scalar(
            _subject_filter(select(Reference), Reference, work, character).where(
                Reference.sha256 == info.sha256, Reference.removed_at.is_(None)
            )
        )
        if existing is not None:
            return existing, False
        self.media.put(path, info)
        reference = Reference(
            work_id=work.id,
            character_id=character.id if character else None,
            sha256=info.sha256,
            kind=info.kind,
            mime=info.mime,
            size_bytes=info.size_bytes,
            width=info.width,
            height=info.height,
            duration_s=info.duration_s,
            original_name=path.name[:500],
            origin=origin,
        )
        self.session.add(reference)
        self.session.flush()
        self.store_fingerprints(reference, path)
        return reference, True

    def store_fingerprints(
        self, reference: Reference, path: Path, only: set[str] | None = None
    ) -> int:
        """Compute and store the signals of a reference (at import; ``only`` for missing ones)."""
        signals = tuple(s for s in self.signals if only is None or s.name in only)
        if not signals:
            return 0
        rows = [
            FingerprintRow(
                reference_id=reference.id,
                signal=fp.signal,
                version=fp.version,
                frame_index=frame_index,
                time_s=time_s,
                data=fp.to_bytes(),
            )
            for frame_index, time_s, fp in fingerprint_media(path, reference.kind, signals)
        ]
        serialise_fingerprint_writes(self.session)
        self.session.add_all(rows)
        self.session.flush()
        return len(rows)

    def fill_missing_fingerprints(self) -> int:
        """Compute signals that live references lack (e.g. after a descriptor was configured)."""
        wanted = {(s.name, s.version) for s in self.signals}
        have: dict[int, set[tuple[str, int]]] = {}
        for reference_id, signal, version in self.session.execute(
            select(
                FingerprintRow.reference_id, FingerprintRow.signal, FingerprintRow.version
            ).distinct()
        ):
            have.setdefault(reference_id, set()).add((signal, version))
        filled = 0
        for reference in self.references():
            missing = wanted - have.get(reference.id, set())
            if missing:
                stale = {name for name, _ in missing}
                for row in self.session.scalars(
                    select(FingerprintRow).where(
                        FingerprintRow.reference_id == reference.id,
                        FingerprintRow.signal.in_(stale),
                    )
                ):
                    self.session.delete(row)  # an older version of the same signal
                self.session.flush()
                filled += self.store_fingerprints(reference, self.media_path(reference), stale)
        return filled

    def reference(self, ref: int | str) -> Reference:
        ident = _as_id(ref)
        reference = self.session.get(Reference, ident) if ident is not None else None
        if reference is None:
            raise NotFound(f"no reference with id {ref!r}")
        return reference

    def references(
        self,
        work: Work | None = None,
        character: Character | None = None,
        include_removed: bool = False,
        exact_subject: bool = False,
    ) -> Sequence[Reference]:
        """References of a work (all its characters too, unless ``exact_subject``)."""
        query = select(Reference).order_by(Reference.id)
        if character is not None:
            query = query.where(Reference.character_id == character.id)
        elif work is not None:
            query = query.where(Reference.work_id == work.id)
            if exact_subject:
                query = query.where(Reference.character_id.is_(None))
        if not include_removed:
            query = query.where(Reference.removed_at.is_(None))
        return self.session.scalars(query).all()

    def remove_reference(self, reference: Reference) -> Reference:
        """Soft removal: the row stays so past decisions that cite it remain explainable."""
        if reference.removed_at is None:
            reference.removed_at = utcnow()
            self.session.flush()
        return reference

    def media_path(self, reference: Reference) -> Path:
        ext = Path(reference.original_name).suffix.lower()
        candidates = sorted(self.media.root.glob(f"{reference.sha256[:2]}/{reference.sha256}.*"))
        for candidate in candidates:
            if candidate.suffix == ext or len(candidates) == 1:
                return candidate
        if candidates:
            return candidates[0]
        raise NotFound(f"media file of reference {reference.id} is missing from the store")

    # -- licensees ------------------------------------------------------------------------
    def add_licensee(self, name: str, country: str | None = None) -> Licensee:
        name = _clean(name, "licensee name")
        if self.session.scalar(select(Licensee).where(Licensee.name == name)):
            raise InvalidInput(f"licensee {name!r} already exists")
        licensee = Licensee(name=name, country=_country(country))
        self.session.add(licensee)
        self.session.flush()
        return licensee

    def licensee(self, ref: int | str) -> Licensee:
        ident = _as_id(ref)
        licensee = (
            self.session.get(Licensee, ident)
            if ident is not None
            else self.session.scalar(select(Licensee).where(Licensee.name == str(ref).strip()))
        )
        if licensee is None:
            raise NotFound(f"no licensee {ref!r}")
        return licensee

    def licensees(self) -> Sequence[Licensee]:
        return self.session.scalars(select(Licensee).order_by(Licensee.id)).all()


def _subject_filter(query, model, work: Work, character: Character | None):
    query = query.where(model.work_id == work.id)
    if character is None:
        return query.where(model.character_id.is_(None))
    return query.where(model.character_id == character.id)


def _one(found: Sequence, what: str, label) -> object:
    if not found:
        raise NotFound(f"no {what}")
    if len(found) > 1:
        options = "; ".join(f"id {item.id}: {label(item)}" for item in found[:10])
        raise Ambiguous(f"{what} is ambiguous, use an id: {options}")
    return found[0]


def _country(country: str | None) -> str | None:
    if country is None or not str(country).strip():
        return None
    country = str(country).strip().upper()
    if not (country.isalpha() and 2 <= len(country) <= 3):
        raise InvalidInput(f"country must be an ISO 3166 code like JP or US, not {country!r}")
    return country


def _guess_lang(text: str) -> str | None:
    """'ja' when the text has kana or kanji, 'en'-or-other Latin otherwise (a hint only)."""
    script = detect_script(text)
    if script in ("kana", "kanji"):
        return "ja"
    if script == "latin":
        return "en"
    return None
