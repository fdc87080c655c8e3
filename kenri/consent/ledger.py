"""Grants, revocations and the one question that matters: may this licensee use this subject?

Semantics (tested in tests/test_consent.py):

- Deny by default. Only a grant that covers the licensee, the subject, the purpose, the
  territory and the moment allows.
- A grant on a work covers the work as a whole and every character of it; a grant on a
  character covers only that character (not the work, not its other characters).
- A grant is valid on ``[valid_from, valid_until)``; ``valid_until`` None means open-ended.
- Revocation takes effect at ``revoked_at``: the grant stays in history, and questions about
  earlier moments still see it (so past decisions remain explainable).
- Territories are ISO 3166 codes or ``*`` (worldwide). A question with no territory is only
  answered "allow" by a worldwide grant.
- A person (a subject of kind "person") is used as a *likeness* whatever the purpose asked:
  only a ``likeness`` grant allows it, and ``likeness`` is granted on persons only.
- A grant may be limited to named end users of the licensee (a cameo for one account). A
  question that names no user is only answered "allow" by a grant for every user.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from kenri.audit.log import append
from kenri.errors import InvalidInput, NotFound
from kenri.registry.models import PERSON, Character, Grant, Licensee, Work, utcnow
from kenri.registry.views import grant_view

PURPOSES = ("training", "generation", "style", "likeness")
LIKENESS = "likeness"
WORLDWIDE = "*"
NO_GRANT = "no grant: prior permission required"

Subject = Work | Character


@dataclass(frozen=True)
class ConsentDecision:
    decision: str  # "allow" | "deny"
    reason: str
    grant: Grant | None = None

    @property
    def allowed(self) -> bool:
        return self.decision == "allow"

    def to_dict(self) -> dict[str, Any]:
        return {
            "decision": self.decision,
            "grant": grant_view(self.grant) if self.grant is not None else None,
            "reason": self.reason,
        }


def _work_of(subject: Subject) -> Work:
    return subject.work if isinstance(subject, Character) else subject


def is_person(subject: Subject) -> bool:
    return _work_of(subject).kind == PERSON


def describe_subject(subject: Subject) -> str:
    if isinstance(subject, Character):
        return f"character {subject.name!r} of {subject.work.title!r}"
    if is_person(subject):
        return f"person {subject.title!r}"
    return f"work {subject.title!r}"


def _users(values: Iterable[str] | None) -> list[str] | None:
    if values is None:
        return None
    result: list[str] = []
    for value in values:
        user = value.strip() if isinstance(value, str) else ""
        if not user or len(user) > 200:
            raise InvalidInput(f"a user is a non-empty id of at most 200 characters, not {value!r}")
        if user not in result:
            result.append(user)
    if not result:
        raise InvalidInput("a grant limited to users needs at least one user")
    return result


def _check_purposes_fit(subject: Subject, purposes: list[str]) -> None:
    if is_person(subject) and purposes != [LIKENESS]:
        raise InvalidInput(f"{describe_subject(subject)} can only be granted for {LIKENESS}")
    if not is_person(subject) and LIKENESS in purposes:
        raise InvalidInput(f"{LIKENESS} is granted on persons, not on {describe_subject(subject)}")


def _territories(values: Iterable[str] | None) -> list[str]:
    result: list[str] = []
    for value in values or [WORLDWIDE]:
        code = value.strip().upper()
        if code != WORLDWIDE and not (code.isalpha() and len(code) == 2):
            raise InvalidInput(f"territory must be an ISO 3166 alpha-2 code or '*', not {value!r}")
        if code not in result:
            result.append(code)
    if WORLDWIDE in result:
        return [WORLDWIDE]
    return result


def _purposes(values: Iterable[str]) -> list[str]:
    result: list[str] = []
    for value in values:
        purpose = value.strip().lower()
        if purpose not in PURPOSES:
            raise InvalidInput(f"purpose must be one of {', '.join(PURPOSES)}, not {value!r}")
        if purpose not in result:
            result.append(purpose)
    if not result:
        raise InvalidInput("a grant needs at least one purpose")
    return result


class ConsentLedger:
    def __init__(self, session: Session, actor: str = "local") -> None:
        self.session, self.actor = session, actor

    def grant(
        self,
        licensee: Licensee,
        subject: Subject,
        purposes: Iterable[str],
        territories: Iterable[str] | None = None,
        valid_from: datetime | None = None,
        valid_until: datetime | None = None,
        fee: str | None = None,
        revenue_share: float | None = None,
        terms: str | None = None,
        users: Iterable[str] | None = None,
    ) -> Grant:
        """Record a licence. Everything is validated before anything is written."""
        purposes = _purposes(purposes)
        _check_purposes_fit(subject, purposes)
        valid_from = valid_from or utcnow()
        if valid_until is not None and _aware(valid_until) <= _aware(valid_from):
            raise InvalidInput("valid_until must be after valid_from")
        if revenue_share is not None and not 0 <= revenue_share <= 1:
            raise InvalidInput("revenue_share is a fraction between 0 and 1")
        grant = Grant(
            licensee_id=licensee.id,
            work_id=_work_of(subject).id,
            character_id=subject.id if isinstance(subject, Character) else None,
            purposes=purposes,
            territories=_territories(territories),
            users=_users(users),
            valid_from=valid_from,
            valid_until=valid_until,
            fee=fee,
            revenue_share=revenue_share,
            terms=terms,
        )
        self.session.add(grant)
        self.session.flush()
        self.session.refresh(grant)
        append(self.session, self.actor, "grant.create", f"grant:{grant.id}", grant_view(grant))
        return grant

    def revoke(self, grant: Grant, reason: str, when: datetime | None = None) -> Grant:
        """Revoke from ``when`` (default now). The grant is kept; revoking twice is refused."""
        if grant.revoked_at is not None:
            raise InvalidInput(f"grant {grant.id} was already revoked at {grant.revoked_at}")
        if not reason or not reason.strip():
            raise InvalidInput("a revocation needs a reason")
        grant.revoked_at = when or utcnow()
        grant.revoke_reason = reason.strip()
        self.session.flush()
        append(
            self.session,
            self.actor,
            "grant.revoke",
            f"grant:{grant.id}",
            {"revoked_at": grant.revoked_at.isoformat(), "reason": grant.revoke_reason},
        )
        return grant

    def get(self, grant_id: int | str) -> Grant:
        try:
            ident = int(str(grant_id).lstrip("#"))
        except ValueError:
            raise NotFound(f"no grant {grant_id!r}") from None
        grant = self.session.get(Grant, ident)
        if grant is None:
            raise NotFound(f"no grant with id {ident}")
        return grant

    def grants(
        self,
        licensee: Licensee | None = None,
        work: Work | None = None,
        character: Character | None = None,
        include_revoked: bool = True,
    ) -> Sequence[Grant]:
        query = select(Grant).order_by(Grant.id)
        if licensee is not None:
            query = query.where(Grant.licensee_id == licensee.id)
        if character is not None:
            query = query.where(Grant.character_id == character.id)
        elif work is not None:
            query = query.where(Grant.work_id == work.id)
        if not include_revoked:
            query = query.where(Grant.revoked_at.is_(None))
        return self.session.scalars(query).all()

    def may(
        self,
        licensee: Licensee,
        subject: Subject,
        purpose: str,
        territory: str | None = None,
        when: datetime | None = None,
        user: str | None = None,
    ) -> ConsentDecision:
        """Allow only when a grant covers all of licensee, subject, purpose, place, time (user)."""
        (purpose,) = _purposes([purpose])
        if is_person(subject):
            purpose = LIKENESS
        place = _territories([territory])[0] if territory else None
        if place == WORLDWIDE:
            place = None
        moment = _aware(when or utcnow())
        work = _work_of(subject)
        query = select(Grant).where(Grant.licensee_id == licensee.id, Grant.work_id == work.id)
        if isinstance(subject, Character):
            query = query.where(or_(Grant.character_id.is_(None), Grant.character_id == subject.id))
        else:
            query = query.where(Grant.character_id.is_(None))
        candidates = self.session.scalars(query.order_by(Grant.id)).all()

        allowing: list[Grant] = []
        misses: list[str] = []
        for grant in candidates:
            miss = _why_not(grant, purpose, place, moment, user)
            if miss is None:
                allowing.append(grant)
            else:
                misses.append(f"grant {grant.id} {miss}")
        if allowing:
            # Prefer the most specific grant (character over work), then the newest.
            best = max(allowing, key=lambda g: (g.character_id is not None, g.valid_from, g.id))
            scope = describe_subject(best.character or best.work)
            return ConsentDecision(
                "allow",
                f"grant {best.id} allows {purpose} of {scope} for {licensee.name}",
                best,
            )
        where = f" in {place}" if place else ""
        where += f" for user {user!r}" if user else ""
        reason = f"{NO_GRANT} ({licensee.name}, {describe_subject(subject)}, {purpose}{where})"
        if misses:
            reason += "; " + "; ".join(misses)
        return ConsentDecision("deny", reason, None)


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _why_not(
    grant: Grant, purpose: str, place: str | None, moment: datetime, user: str | None
) -> str | None:
    """Why this grant does not allow the question, or None when it does."""
    if grant.revoked_at is not None and grant.revoked_at <= moment:
        return f"was revoked on {grant.revoked_at.isoformat()} ({grant.revoke_reason})"
    if grant.valid_from > moment:
        return f"starts on {grant.valid_from.isoformat()}"
    if grant.valid_until is not None and grant.valid_until <= moment:
        return f"expired on {grant.valid_until.isoformat()}"
    if purpose not in grant.purposes:
        return f"covers {', '.join(grant.purposes)}, not {purpose}"
    if WORLDWIDE not in grant.territories and (place is None or place not in grant.territories):
        asked = place or "an unspecified territory"
        return f"covers {', '.join(grant.territories)}, not {asked}"
    if grant.users is not None and user not in grant.users:
        return f"covers users {', '.join(grant.users)}, not {user or 'an unnamed user'}"
    return None
