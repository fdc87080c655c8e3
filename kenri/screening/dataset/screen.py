"""Screen one shard: a decision per item, and the shard again holding only what may be used.

Per item: the media against the registry (``kenri.screening.media``), the caption as a prompt
(``kenri.screening.prompt``), and the creator's reservations (``optout``), all for the purpose
``training``. ``exclude`` when any of them blocks (an unlicensed registered work, or a
reservation), ``review`` when a match is uncertain, ``keep`` otherwise, ``error`` when the item
cannot be checked (errors are excluded too: what cannot be checked is not cleared).
"""

from __future__ import annotations

import json
import tarfile
import tempfile
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kenri.errors import KenriError
from kenri.files import write_atomically
from kenri.matching.matcher import TRIAGE
from kenri.screening.dataset.optout import c2pa_reasons, metadata_reasons
from kenri.screening.dataset.sources import VIDEO_EXTENSIONS, Item, Shard, read_items
from kenri.screening.decision import Thresholds
from kenri.screening.media import Screener

if TYPE_CHECKING:
    from kenri.app import Kenri

PURPOSE = "training"
THRESHOLDS = Thresholds()
COLUMNS = [
    "shard", "position", "key", "decision", "reasons", "holder", "work", "character", "score",
    "grant", "evidence", "error",
]  # fmt: skip


@dataclass
class ItemDecision:
    shard: str
    position: int
    key: str
    decision: str  # keep | review | exclude | error
    reasons: list[str] = field(default_factory=list)
    holder: str | None = None
    work: str | None = None
    character: str | None = None
    score: float | None = None
    grant: str | None = None  # JSON of the grant that allowed a registered work
    evidence: str | None = None  # JSON: the matches behind the decision
    error: str | None = None

    def row(self) -> dict[str, Any]:
        return {c: getattr(self, c) for c in COLUMNS}


@dataclass(frozen=True)
class Options:
    licensee: str | None = None
    territory: str | None = None
    exclude_review: bool = False
    # Captions are checked for names; the description model (about 10 ms per unique caption,
    # more than the media check) only on request: alt-text rarely paraphrases a character.
    caption_descriptions: bool = False


def screen_shard(app: Kenri, shard: Shard, out: Path, options: Options) -> list[ItemDecision]:
    """Decide every item and write ``parts/<shard>.json`` plus the filtered shard, each
    atomically; the part file is written last, so its presence means the shard is done."""
    decisions: list[ItemDecision] = []
    kept: list[Item] = []
    allowed = ("keep",) if options.exclude_review else ("keep", "review")
    with app.transaction() as tx:
        media = Screener(
            app, tx, options.licensee, PURPOSE, options.territory, None, THRESHOLDS, TRIAGE
        )
        for item in read_items(shard):
            try:
                decision = _decide(app, tx, media, item, options)
            except KenriError as exc:  # e.g. a hostile caption: this item fails, not the shard
                decision = ItemDecision(
                    item.shard, item.position, item.key, "error", error=str(exc)
                )
            decisions.append(decision)
            if decision.decision in allowed:
                kept.append(item)
    write_filtered_shard(out / "shards" / f"{shard.name}.tar", kept)
    rows = [d.row() for d in decisions]
    write_atomically(
        part_path(out, shard),
        lambda tmp: Path(tmp).write_text(json.dumps(rows, ensure_ascii=False), "utf-8"),
    )
    return decisions


def part_path(out: Path, shard: Shard) -> Path:
    return out / "parts" / f"{shard.name}.json"


def _decide(app, tx, media: Screener, item: Item, options: Options) -> ItemDecision:
    result = ItemDecision(item.shard, item.position, item.key, "keep")
    if item.error:
        result.decision, result.error = "error", item.error
        return result
    ext, data = item.media
    screened = _screen_media(media, ext, data)
    if screened.error:
        result.decision, result.error = "error", screened.error
        return result
    verdicts = {"media": screened.decision}
    found = {"media": [{"signal": "media", **m.to_dict()} for m in screened.matches]}
    if item.caption:
        prompt = app.prompt_screener.screen(
            tx,
            item.caption,
            options.licensee,
            PURPOSE,
            options.territory,
            descriptions=options.caption_descriptions,
        )
        verdicts["caption"] = prompt.decision
        flagged = [m for m in prompt.matches if m.score >= THRESHOLDS.review]
        found["caption"] = [{"signal": "caption", **m.to_dict()} for m in flagged]
    else:
        result.reasons.append("no caption")
    for signal, verdict in verdicts.items():
        if verdict in ("block", "review"):
            named = _strongest(found[signal])
            result.reasons.append(f"{signal} {verdict}: {named['work'] if named else ''}".strip())
    matches = found["media"] + found.get("caption", [])
    reservations = metadata_reasons(item.metadata) + c2pa_reasons(data)
    result.reasons += reservations
    best = _strongest(matches)
    if best is not None:
        result.holder, result.work = best.get("holder"), best.get("work")
        result.character, result.score = best.get("character"), best.get("score")
        if best.get("grant"):
            result.grant = json.dumps(best["grant"], ensure_ascii=False)
    if "block" in verdicts.values() or reservations:
        result.decision = "exclude"
    elif "review" in verdicts.values():
        result.decision = "review"
    if matches:
        result.evidence = json.dumps(matches, ensure_ascii=False, default=str)
    return result


def _strongest(matches: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The match that decides: the strongest unlicensed one, else the strongest licensed."""
    unlicensed = [m for m in matches if not m.get("grant")]
    return max(unlicensed or matches, key=lambda m: m.get("score") or 0, default=None)


def _screen_media(media: Screener, ext: str, data: bytes):
    if ext in VIDEO_EXTENSIONS:
        with tempfile.NamedTemporaryFile(suffix=f".{ext}") as handle:
            handle.write(data)
            handle.flush()
            return media.screen_video(handle.name)
    return media.screen_image(data)


def write_filtered_shard(path: Path, items: list[Item]) -> None:
    """The kept items, in the input's webdataset layout (key.ext members, caption, json)."""

    def write(tmp: str) -> None:
        with tarfile.open(tmp, "w") as archive:
            for item in items:
                members = dict(item.members)
                if item.caption is not None:
                    members["txt"] = item.caption.encode("utf-8")
                if item.metadata:
                    members["json"] = json.dumps(item.metadata, ensure_ascii=False).encode()
                for ext, data in sorted(members.items()):
                    info = tarfile.TarInfo(f"{item.key}.{ext}")
                    info.size, info.mtime, info.mode = len(data), 0, 0o644
                    archive.addfile(info, BytesIO(data))

    write_atomically(path, write)
