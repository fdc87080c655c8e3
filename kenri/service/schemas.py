"""Request bodies of the REST API (responses are the same dict views the CLI prints)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Form, Path, Query
from pydantic import BaseModel, Field

Text300 = Field(min_length=1, max_length=300)
MAX_ID = 2**31 - 1  # ids are 32-bit integers in PostgreSQL
IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
IdQuery = Annotated[int | None, Query(ge=1, le=MAX_ID)]
After = Annotated[int, Query(ge=0, le=MAX_ID, description="Only items after this id/seq.")]
Limit = Annotated[int, Query(ge=1, le=1000)]
PurposeForm = Annotated[str, Form(pattern="^(generation|training|style)$")]
UserForm = Annotated[str | None, Form(max_length=200)]
TerritoryForm = Annotated[str | None, Form(max_length=8)]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
MAX_PROMPTS_PER_BATCH = 256
MAX_PROMPT_CHARS = 10_000


class TenantIn(BaseModel):
    name: str = Text300
    role: str = Field(pattern="^(holder|licensee|operator)$")
    country: str | None = Field(None, max_length=8)


class KeyIn(BaseModel):
    label: str | None = Field(None, max_length=200)
    expires_in_days: int | None = Field(None, ge=1, le=3650, description="Never, if left out.")


class NameIn(BaseModel):
    text: str = Text300
    script: str | None = Field(None, max_length=16)
    lang: str | None = Field(None, max_length=16)


class WorkIn(BaseModel):
    title: str = Text300
    titles: list[NameIn] = Field(default_factory=list, max_length=100)


class CharacterIn(BaseModel):
    name: str = Text300
    names: list[NameIn] = Field(default_factory=list, max_length=200)
    descriptions: list[str] = Field(default_factory=list, max_length=50)


class NamesIn(BaseModel):
    names: list[NameIn] = Field(min_length=1, max_length=200)


class GrantIn(BaseModel):
    licensee: str = Text300
    work_id: Id
    character_id: Id | None = None
    purposes: list[str] = Field(min_length=1, max_length=4)
    territories: list[str] = Field(default_factory=lambda: ["*"], max_length=250)
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    fee: str | None = Field(None, max_length=200)
    revenue_share: float | None = None
    terms: str | None = Field(None, max_length=10_000)
    users: list[str] | None = Field(None, max_length=1000)  # None: every user of the licensee


class PersonIn(BaseModel):
    name: str = Text300
    aliases: list[str] = Field(default_factory=list, max_length=100)


class RevokeIn(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)


class ScreenOptions(BaseModel):
    """What a prompt is screened for, one prompt or a batch alike."""

    purpose: str = Field("generation", pattern="^(generation|training|style)$")
    territory: str | None = Field(None, max_length=8)
    user: str | None = Field(None, max_length=200)  # the licensee's end user


class PromptIn(ScreenOptions):
    prompt: str = Field(max_length=MAX_PROMPT_CHARS)


class PromptsIn(ScreenOptions):
    """A batch of prompts screened in one transaction (bulk callers: caption lists, queues).
    A prompt over ``MAX_PROMPT_CHARS`` gets an error in its place; the others are screened."""

    prompts: list[str] = Field(min_length=1, max_length=MAX_PROMPTS_PER_BATCH)


class GenerationIn(BaseModel):
    decision: str = Field(pattern="^(allow|review|block)$")
    prompt: str | None = Field(None, max_length=20_000)
    grants: list[Id] = Field(default_factory=list, max_length=100)
    pdq: list[str] = Field(default_factory=list, max_length=10_000)
    media_base64: str | None = Field(None, max_length=70_000_000)
    keep_media: bool = False
    details: dict = Field(default_factory=dict)


class ClaimIn(BaseModel):
    kind: str = Field("claim", pattern="^(claim|inquiry)$")
    message: str = Field(min_length=1, max_length=10_000)
    generation_id: Id | None = None
    licensee: str | None = Field(None, max_length=300)
    work_id: Id | None = None
    character_id: Id | None = None
    media_base64: str | None = Field(None, max_length=70_000_000)


class ClaimActionIn(BaseModel):
    action: str = Field(max_length=32)
    note: str | None = Field(None, max_length=10_000)
    actions: list[str] = Field(default_factory=list, max_length=3)
    pattern: str | None = Field(None, max_length=300)


class WebhookIn(BaseModel):
    url: str = Field(min_length=1, max_length=1000)
    secret: str = Field(min_length=16, max_length=200)
