"""The claims and inquiries workflow, modelled on what rights holders know from Content ID.

A holder files a claim (about a generation, or a file found anywhere, which kenri traces to the
generation ledger) or an inquiry (a question). The licensee answers within a deadline:

    claim:    open --accept--> accepted            (takedown, block the pattern, add reference)
              open --dispute--> disputed --escalate--> escalated --decide--> upheld | rejected
              open | disputed | escalated --withdraw--> withdrawn
    inquiry:  open --reply--> answered --follow_up--> open;  open | answered --close--> closed

Every change records an actor and a time (``claim_events``), goes to the audit log and to
both parties' webhooks. A claim waiting on someone past its deadline is overdue.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from kenri.audit.log import append
from kenri.claims.models import Claim, ClaimEvent
from kenri.claims.webhooks import enqueue
from kenri.errors import Forbidden, InvalidInput, KenriError, NotFound
from kenri.provenance.generations import Generation, get_generation
from kenri.registry.models import Character, Holder, Work, utcnow
from kenri.registry.registry import NameSpec

if TYPE_CHECKING:
    from kenri.app import Kenri, Transaction

CLAIM, INQUIRY = "claim", "inquiry"
RESPONSE_DAYS = 14  # the licensee's time to answer, and the operator's after an escalation
WAITING = {"open": "licensee", "escalated": "operator"}
ACTIONS = ("takedown", "block_pattern", "add_reference")
MAX_TEXT = 10_000


@dataclass(frozen=True)
class Transition:
    kind: str
    role: str  # holder | licensee | operator
    sources: tuple[str, ...]
    target: str


TRANSITIONS: dict[str, Transition] = {
    "accept": Transition(CLAIM, "licensee", ("open",), "accepted"),
    "dispute": Transition(CLAIM, "licensee", ("open",), "disputed"),
    "escalate": Transition(CLAIM, "holder", ("disputed",), "escalated"),
    "uphold": Transition(CLAIM, "operator", ("escalated",), "upheld"),
    "reject": Transition(CLAIM, "operator", ("escalated",), "rejected"),
    "withdraw": Transition(CLAIM, "holder", ("open", "disputed", "escalated"), "withdrawn"),
    "reply": Transition(INQUIRY, "licensee", ("open",), "answered"),
    "follow_up": Transition(INQUIRY, "holder", ("answered",), "open"),
    "close": Transition(INQUIRY, "holder", ("open", "answered"), "closed"),
}


@dataclass(frozen=True)
class Party:
    """Who acts: a role and, for holders and licensees, which one."""

    role: str
    name: str
    holder_id: int | None = None
    licensee_id: int | None = None

    @property
    def label(self) -> str:
        return f"{self.role}:{self.name}"


def _text(value: str | None, what: str, required: bool = True) -> str | None:
    value = (value or "").strip()
    if not value:
        if required:
            raise InvalidInput(f"{what} must not be empty")
        return None
    if len(value) > MAX_TEXT:
        raise InvalidInput(f"{what} longer than {MAX_TEXT} characters")
    return value


def _subject(tx: Transaction, holder: Holder, work_id: int | None, character_id: int | None):
    work = character = None
    if character_id is not None:
        character = tx.session.get(Character, character_id)
        if character is None or character.work.holder_id != holder.id:
            raise NotFound(f"no character {character_id} of yours")
        work = character.work
    elif work_id is not None:
        work = tx.session.get(Work, work_id)
        if work is None or work.holder_id != holder.id:
            raise NotFound(f"no work {work_id} of yours")
    return work, character


def file_claim(
    app: Kenri,
    tx: Transaction,
    holder: Party,
    kind: str,
    message: str,
    generation_id: int | None = None,
    media: bytes | None = None,
    licensee: str | None = None,
    work_id: int | None = None,
    character_id: int | None = None,
) -> Claim:
    """File a claim or inquiry; trace it to a generation and attach the evidence."""
    if kind not in (CLAIM, INQUIRY):
        raise InvalidInput("kind must be claim or inquiry")
    holder_row = tx.session.get(Holder, holder.holder_id)
    if holder_row is None:
        raise Forbidden("only a rights holder files claims")
    message = _text(message, "message")
    work, character = _subject(tx, holder_row, work_id, character_id)
    evidence: dict[str, Any] = {}
    generation: Generation | None = None
    if generation_id is not None:
        generation = get_generation(tx, generation_id)
        evidence["trace"] = {"route": "generation id", "generation": generation.id}
    stored = None
    if media is not None:
        from kenri.provenance.trace import trace_media

        traced = trace_media(app, media, tx=tx)
        evidence["trace"] = {
            "route": traced.route, "generation": traced.generation,
            "confidence": round(traced.confidence, 3), "hits": [h.to_dict() for h in traced.ledger],
            "notes": traced.notes,
        }  # fmt: skip
        if generation is None and traced.generation is not None:
            generation = get_generation(tx, traced.generation)
        evidence["matches"] = _own_matches(app, tx, holder_row, media)
        info = tx.registry.media.put_bytes(media, "claimed")
        stored = (info.sha256, info.ext)
    addressee = generation.licensee if generation is not None else None
    if addressee is None and licensee:
        addressee = tx.registry.licensee(licensee)
    if addressee is None:
        raise InvalidInput(
            "the claim could not be traced to a generation: give the generation id or the "
            "licensee it is addressed to"
        )
    if kind == CLAIM and work is None and evidence.get("matches"):
        best = evidence["matches"][0]
        work = tx.session.get(Work, best["work_id"])
        character = (
            tx.session.get(Character, best["character_id"]) if best["character_id"] else None
        )
    now = utcnow()
    claim = Claim(
        kind=kind,
        state="open",
        holder_id=holder_row.id,
        licensee_id=addressee.id,
        work_id=work.id if work else None,
        character_id=character.id if character else None,
        generation_id=generation.id if generation else None,
        message=message,
        evidence=evidence,
        media_sha256=stored[0] if stored else None,
        media_ext=stored[1] if stored else None,
        due_at=now + timedelta(days=RESPONSE_DAYS),
        created_at=now,
        updated_at=now,
    )
    tx.session.add(claim)
    tx.session.flush()
    _record(tx, claim, holder, "file", None, "open", message)
    return claim


def _own_matches(app: Kenri, tx: Transaction, holder: Holder, media: bytes) -> list[dict]:
    """The holder's own references found in the file (never another holder's)."""
    from kenri.screening.decision import Thresholds
    from kenri.screening.media import Screener

    screener = Screener(app, tx, None, "generation", None, 10, Thresholds())
    try:
        result = screener.screen_image(media)
    except KenriError:
        return []
    if result.error:
        return []
    own = []
    for match in result.matches:
        reference = tx.registry.reference(match.reference_id)
        if reference.work.holder_id == holder.id:
            own.append(
                {
                    **match.to_dict(),
                    "work_id": reference.work_id,
                    "character_id": reference.character_id,
                }  # fmt: skip
            )
    return own


def get_claim(tx: Transaction, claim_id: int, party: Party) -> Claim:
    """The claim, if ``party`` may see it (its holder, its licensee, or an operator)."""
    claim = tx.session.get(Claim, claim_id)
    if claim is None or not _involved(claim, party):
        raise NotFound(f"no claim {claim_id}")
    return claim


def _involved(claim: Claim, party: Party) -> bool:
    return (
        party.role == "operator"
        or (party.role == "holder" and claim.holder_id == party.holder_id)
        or (party.role == "licensee" and claim.licensee_id == party.licensee_id)
    )


def list_claims(
    tx: Transaction, party: Party, state: str | None = None, overdue: bool = False
) -> Sequence[Claim]:
    query = select(Claim).order_by(Claim.id)
    if party.role == "holder":
        query = query.where(Claim.holder_id == party.holder_id)
    elif party.role == "licensee":
        query = query.where(Claim.licensee_id == party.licensee_id)
    if state:
        query = query.where(Claim.state == state)
    if overdue:
        query = query.where(Claim.state.in_(list(WAITING)), Claim.due_at < utcnow())
    return tx.session.scalars(query).all()


def act(
    tx: Transaction,
    claim_id: int,
    party: Party,
    action: str,
    note: str | None = None,
    actions: Iterable[str] = (),
    pattern: str | None = None,
) -> Claim:
    """Apply one transition; ``actions`` (and ``pattern``) say what an accepting licensee does."""
    transition = TRANSITIONS.get(action)
    if transition is None:
        raise InvalidInput(f"unknown action {action!r} (known: {', '.join(TRANSITIONS)})")
    claim = get_claim(tx, claim_id, party)
    if transition.role != party.role:
        raise Forbidden(f"only the {transition.role} may {action} this {claim.kind}")
    if claim.kind != transition.kind:
        raise InvalidInput(f"{action} applies to a {transition.kind}, this is a {claim.kind}")
    if claim.state not in transition.sources:
        raise InvalidInput(f"cannot {action} a {claim.kind} that is {claim.state}")
    needs_reason = action in ("dispute", "escalate", "reject", "reply")
    note = _text(note, "a reason" if action != "reply" else "a reply", required=needs_reason)
    resolution: dict[str, Any] | None = None
    if action == "accept":
        resolution = _carry_out(tx, claim, list(actions), pattern)
    elif action == "uphold" and claim.generation_id is not None:
        resolution = _carry_out(tx, claim, ["takedown"], None)
    previous = claim.state
    claim.state = transition.target
    now = utcnow()
    claim.updated_at = now
    if transition.target in WAITING:
        claim.due_at = now + timedelta(days=RESPONSE_DAYS)
    if resolution is not None:
        claim.resolution = resolution
    _record(tx, claim, party, action, previous, claim.state, note, resolution)
    return claim


def _carry_out(
    tx: Transaction, claim: Claim, actions: list[str], pattern: str | None
) -> dict[str, Any]:
    unknown = [a for a in actions if a not in ACTIONS]
    if unknown or not actions:
        raise InvalidInput(f"accepting needs one or more actions of: {', '.join(ACTIONS)}")
    done: dict[str, Any] = {"actions": []}
    if "takedown" in actions:
        if claim.generation_id is None:
            raise InvalidInput("takedown needs a claim about a generation")
        generation = tx.session.get(Generation, claim.generation_id)
        generation.taken_down_at = generation.taken_down_at or utcnow()
        done["actions"].append("takedown")
    if "block_pattern" in actions:
        pattern = _text(pattern, "the pattern to block")
        if claim.work is None:
            raise InvalidInput("block_pattern needs a claim about a work or character")
        tx.registry.sync_names(
            claim.work, claim.character, [NameSpec(pattern)], origin="claim", prune=False
        )
        done["actions"].append("block_pattern")
        done["pattern"] = pattern
    if "add_reference" in actions:
        if claim.media_sha256 is None or claim.work is None:
            raise InvalidInput("add_reference needs a claim with a file about a work")
        path = tx.registry.media.path_for(claim.media_sha256, claim.media_ext or "")
        reference, _ = tx.registry.add_reference(path, claim.work, claim.character, "claim")
        done["actions"].append("add_reference")
        done["reference"] = reference.id
    return done


def _record(
    tx: Transaction,
    claim: Claim,
    party: Party,
    action: str,
    previous: str | None,
    state: str,
    note: str | None,
    resolution: dict[str, Any] | None = None,
) -> None:
    tx.session.add(
        ClaimEvent(
            claim_id=claim.id,
            actor=party.label,
            action=action,
            from_state=previous,
            to_state=state,
            note=note,
        )
    )
    tx.session.flush()
    tx.session.refresh(claim, ["events"])
    data = {"from": previous, "to": state, "note": note, "resolution": resolution}
    append(tx.session, party.label, f"{claim.kind}.{action}", f"claim:{claim.id}", data)
    enqueue(tx.session, claim, f"{claim.kind}.{action}", claim_view(claim))


def overdue(claim: Claim, now: datetime | None = None) -> bool:
    return claim.state in WAITING and claim.due_at < (now or utcnow())


def claim_view(claim: Claim) -> dict[str, Any]:
    return {
        "id": claim.id,
        "kind": claim.kind,
        "state": claim.state,
        "holder": claim.holder.name,
        "licensee": claim.licensee.name,
        "work": claim.work.title if claim.work else None,
        "character": claim.character.name if claim.character else None,
        "generation": claim.generation_id,
        "message": claim.message,
        "evidence": claim.evidence,
        "resolution": claim.resolution,
        "waiting_on": WAITING.get(claim.state),
        "due_at": claim.due_at.isoformat(),
        "overdue": overdue(claim),
        "created_at": claim.created_at.isoformat(),
        "updated_at": claim.updated_at.isoformat(),
        "events": [
            {
                "at": e.at.isoformat(),
                "actor": e.actor,
                "action": e.action,
                "from": e.from_state,
                "to": e.to_state,
                "note": e.note,
            }
            for e in claim.events
        ],
    }
