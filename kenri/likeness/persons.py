"""Persons as registry subjects: their names, their verified face photos, nothing else.

A person is a ``Work`` of kind "person" held by the person (or their agency). Their names
are ordinary registry names, so prompt screening finds them like a character's; their face
photos are references whose face descriptors are stored as ``face`` fingerprint rows; each
photo comes with a consent record saying who verified it and when.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from kenri.app import Transaction
from kenri.audit.log import append
from kenri.errors import InvalidInput, NotFound
from kenri.fingerprints.imageio import load_image
from kenri.likeness.faces import Face, FaceModel, face_model, faces_fingerprint
from kenri.registry.models import (
    PERSON,
    FingerprintRow,
    Holder,
    LikenessConsent,
    Reference,
    Work,
    utcnow,
)
from kenri.registry.registry import NameSpec

# A reference photo's face must be a clear detection; weaker ones (a patch, a poster in the
# background) are not counted as a second face.
REFERENCE_MIN_DETECTOR_SCORE = 0.3


@dataclass(frozen=True)
class Consent:
    """The record that makes a face photo acceptable: who checked it, when, and how."""

    verified_by: str
    method: str = "identity document checked in person"
    verified_at: datetime | None = None
    note: str | None = None

    def checked(self) -> Consent:
        verified_by = " ".join((self.verified_by or "").split())
        method = " ".join((self.method or "").split())
        if not verified_by:
            raise InvalidInput("a consent record needs who verified it (verified_by)")
        if not method:
            raise InvalidInput("a consent record needs how it was verified (method)")
        if len(verified_by) > 300 or len(method) > 200:
            raise InvalidInput("verified_by (300) or method (200) is too long")
        at = self.verified_at or utcnow()
        at = at.replace(tzinfo=UTC) if at.tzinfo is None else at
        if at > utcnow():
            raise InvalidInput("a consent cannot be verified in the future")
        return Consent(verified_by, method, at, self.note)


@dataclass(frozen=True)
class FacePhoto:
    reference: Reference
    consent: LikenessConsent
    face: Face


def add_person(
    tx: Transaction, holder: Holder, name: str, aliases: Iterable[str | NameSpec] = ()
) -> Work:
    """Register a person under ``holder`` (themselves or their agency) with all their names."""
    specs = [a if isinstance(a, NameSpec) else NameSpec(a) for a in aliases]
    person = tx.registry.add_work(holder, name, titles=specs)
    person.kind = PERSON
    tx.session.flush()
    append(tx.session, tx.actor, "person.create", f"work:{person.id}", {"name": person.title})
    return person


def person(tx: Transaction, ref: int | str) -> Work:
    """A person by id or any of their names."""
    found = tx.registry.work(ref)
    if found.kind != PERSON:
        raise NotFound(f"{found.title!r} is a work, not a person")
    return found


def persons(tx: Transaction, holder: Holder | None = None) -> Sequence[Work]:
    return [w for w in tx.registry.works(holder) if w.kind == PERSON]


def add_face(
    tx: Transaction,
    who: Work,
    photo: str | os.PathLike[str],
    consent: Consent,
    model: FaceModel | None = None,
) -> FacePhoto:
    """Store a face photo of ``who`` with its consent record; exactly one face must show."""
    if who.kind != PERSON:
        raise InvalidInput(f"{who.title!r} is a work, not a person: faces belong to persons")
    consent = consent.checked()
    path = Path(photo)
    faces = [
        f
        for f in (model or face_model()).faces(load_image(path))
        if f.detector_score >= REFERENCE_MIN_DETECTOR_SCORE
    ]
    if not faces:
        raise InvalidInput(f"{path.name}: no face found (a frontal face of 80 px or more works)")
    if len(faces) > 1:
        raise InvalidInput(
            f"{path.name}: {len(faces)} faces found; a reference photo shows the person alone"
        )
    reference, created = tx.registry.add_reference(path, who)
    if not created:
        raise InvalidInput(f"{path.name} is already a face photo of {who.title!r}")
    fingerprint = faces_fingerprint(faces)
    tx.session.add(
        FingerprintRow(
            reference_id=reference.id,
            signal=fingerprint.signal,
            version=fingerprint.version,
            data=fingerprint.to_bytes(),
        )
    )
    record = LikenessConsent(
        work_id=who.id,
        reference_id=reference.id,
        verified_by=consent.verified_by,
        verified_at=consent.verified_at,
        method=consent.method,
        note=consent.note,
    )
    tx.session.add(record)
    tx.session.flush()
    append(
        tx.session,
        tx.actor,
        "likeness.consent",
        f"reference:{reference.id}",
        {
            "person": who.title,
            "sha256": reference.sha256,
            "verified_by": record.verified_by,
            "verified_at": record.verified_at.isoformat(),
            "method": record.method,
        },
    )
    return FacePhoto(reference, record, faces[0])


def consents(tx: Transaction, who: Work) -> Sequence[LikenessConsent]:
    return tx.session.scalars(
        select(LikenessConsent)
        .where(LikenessConsent.work_id == who.id)
        .order_by(LikenessConsent.id)
    ).all()
