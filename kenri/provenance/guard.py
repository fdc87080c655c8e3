"""The Guard: what a generator calls around each generation.

Before generation it screens the prompt; after, it screens the output (image or video frames).
An output that passes is marked and recorded in one transaction: the generation record goes to
the ledger (fingerprints of the final media, grants used), an invisible watermark carrying the
generation id goes into every pixel row, and a signed C2PA manifest says what the media is.
A blocked prompt never reaches the generator; a blocked output is recorded (its fingerprints,
so a copy found later can still be traced) but never returned::

    guard = kenri.Guard(app, licensee="Acme AI", generator="toy-diffusion 1.0")
    out = guard.generate_image("a lighthouse at dawn", my_generator)  # prompt -> RGB array
    if out.media is not None:
        publish(out.media, out.mime)
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from kenri.errors import MediaError
from kenri.fingerprints.pdq import PdqSignal
from kenri.provenance import watermark
from kenri.provenance.encoding import encode_image, encode_video
from kenri.provenance.generations import record_generation
from kenri.provenance.keys import default_signing
from kenri.provenance.manifests import Signing, build_manifest, sign_media
from kenri.screening.decision import Thresholds

if TYPE_CHECKING:
    from kenri.app import Kenri
    from kenri.screening.media import ScreenResult
    from kenri.screening.prompt.screen import PromptResult

SEVERITY = {"allow": 0, "review": 1, "block": 2}
REVIEW = Thresholds().review


@dataclass
class GuardedOutput:
    """One generation through the Guard: the decision, and the marked media unless blocked."""

    decision: str
    generation_id: int | None
    media: bytes | None  # watermarked, with a signed manifest; None when blocked
    mime: str | None
    grants: list[int] = field(default_factory=list)
    training_use: str | None = None
    prompt: PromptResult | None = None
    output: ScreenResult | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "decision": self.decision,
            "generation": self.generation_id,
            "mime": self.mime,
            "bytes": len(self.media) if self.media is not None else None,
            "grants": self.grants,
            "training_use": self.training_use,
            "prompt": self.prompt.to_dict() if self.prompt else None,
            "output": self.output.to_dict() if self.output else None,
        }


class Guard:
    def __init__(
        self,
        app: Kenri,
        licensee: str,
        generator: str = "unnamed generator",
        signing: Signing | None = None,
        territory: str | None = None,
        training_use: str = "allowed",
        image_format: str = "png",
        user: str | None = None,
    ) -> None:
        """``training_use``: what the manifest says about training on outputs that show no
        registered work; outputs that do follow their grants (``notAllowed`` unless every grant
        used includes the ``training`` purpose). ``user``: the end user generating, for
        likeness grants limited to users (a person's cameo for one account)."""
        self.app, self.licensee, self.generator, self.user = app, licensee, generator, user
        self.territory, self.default_training_use = territory, training_use
        self.image_format = image_format
        self.signing = signing or default_signing(app.settings)
        with app.transaction() as tx:
            tx.registry.licensee(licensee)  # an unknown licensee fails here, not mid-generation

    # -- before -------------------------------------------------------------------------------
    def check_prompt(self, prompt: str) -> PromptResult:
        return self.app.screen_prompt(prompt, **self._options())

    # -- whole generations --------------------------------------------------------------------
    def generate_image(self, prompt: str, generator: Callable[[str], np.ndarray]) -> GuardedOutput:
        """Screen ``prompt``; if it may go on, call ``generator(prompt)`` (an RGB array) and
        finish the output."""
        checked = self.check_prompt(prompt)
        if checked.decision == "block":
            return self._refused(prompt, checked)
        return self.finish_image(prompt, generator(prompt), checked)

    def generate_video(
        self, prompt: str, generator: Callable[[str], tuple[Sequence[np.ndarray], float]]
    ) -> GuardedOutput:
        """Like ``generate_image``; ``generator(prompt)`` returns (RGB frames, frames/s)."""
        checked = self.check_prompt(prompt)
        if checked.decision == "block":
            return self._refused(prompt, checked)
        frames, fps = generator(prompt)
        return self.finish_video(prompt, frames, fps, checked)

    # -- after --------------------------------------------------------------------------------
    def finish_image(
        self, prompt: str | None, rgb: np.ndarray, checked: PromptResult | None = None
    ) -> GuardedOutput:
        """Screen a generated image; unless blocked, watermark, record and sign it."""
        rgb = np.ascontiguousarray(rgb[..., :3], np.uint8)
        screened = self.app.screen_image(rgb, **self._options())

        def mark(generation_id: int) -> tuple[bytes, str, np.ndarray]:
            marked = watermark.embed(rgb, generation_id)
            data, mime = encode_image(marked, self.image_format)
            return data, mime, _codes([marked])

        return self._finish(prompt, checked, screened, [rgb], mark)

    def finish_video(
        self,
        prompt: str | None,
        frames: Sequence[np.ndarray],
        fps: float,
        checked: PromptResult | None = None,
    ) -> GuardedOutput:
        """Screen generated frames; unless blocked, watermark every frame, record and sign."""
        frames = [np.ascontiguousarray(f[..., :3], np.uint8) for f in frames]
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "output.mp4")
            with open(path, "wb") as handle:
                handle.write(encode_video(frames, fps))
            screened = self.app.screen_video(path, **self._options())

        def mark(generation_id: int) -> tuple[bytes, str, np.ndarray]:
            marked = [watermark.embed(f, generation_id) for f in frames]
            return encode_video(marked, fps), "video/mp4", _codes(marked[:: max(round(fps), 1)])

        return self._finish(prompt, checked, screened, frames[:: max(round(fps), 1)], mark)

    # -- internals ----------------------------------------------------------------------------
    def _options(self) -> dict[str, Any]:
        return {
            "licensee": self.licensee,
            "purpose": "generation",
            "territory": self.territory,
            "user": self.user,
        }

    def _refused(self, prompt: str, checked: PromptResult) -> GuardedOutput:
        with self.app.transaction(f"guard:{self.licensee}") as tx:
            generation = record_generation(
                tx, tx.registry.licensee(self.licensee), "block", prompt,
                details={"stage": "prompt", "generator": self.generator},
            )  # fmt: skip
            generation_id = generation.id
        return GuardedOutput("block", generation_id, None, None, prompt=checked)

    def _finish(
        self,
        prompt: str | None,
        checked: PromptResult | None,
        screened: ScreenResult,
        frames: list[np.ndarray],
        mark: Callable[[int], tuple[bytes, str, np.ndarray]],
    ) -> GuardedOutput:
        if screened.error:
            raise MediaError(screened.error)
        decisions = [screened.decision or "allow"] + ([checked.decision] if checked else [])
        decision = max(decisions, key=SEVERITY.__getitem__)
        matches = [*(checked.matches if checked else []), *screened.matches]
        grants = {m.grant["id"]: m.grant for m in matches if m.grant and m.score >= REVIEW}
        use = _training_use(list(grants.values()), decision, self.default_training_use)
        details = {"generator": self.generator, "watermark": decision != "block",
                   "c2pa": decision != "block", "training_use": use}  # fmt: skip
        with self.app.transaction(f"guard:{self.licensee}") as tx:
            licensee = tx.registry.licensee(self.licensee)
            if decision == "block":
                codes = _codes(frames)
                generation = record_generation(
                    tx, licensee, "block", prompt, pdq_hex=[c.tobytes().hex() for c in codes],
                    details={**details, "stage": "output"},
                )  # fmt: skip
                return GuardedOutput("block", generation.id, None, None, [], None, checked,
                                     screened)  # fmt: skip
            generation = record_generation(tx, licensee, decision, prompt, list(grants),
                                           details=details)  # fmt: skip
            data, mime, codes = mark(generation.id)
            generation.media_kind = "video" if mime.startswith("video/") else "image"
            generation.pdq = codes.astype(np.uint8).tobytes()
            manifest = build_manifest(generation.id, decision, list(grants), use, self.generator)
            signed = sign_media(data, mime, manifest, self.signing)  # fails: nothing recorded
            return GuardedOutput(decision, generation.id, signed, mime, list(grants), use,
                                 checked, screened)  # fmt: skip


def _codes(frames: Sequence[np.ndarray]) -> np.ndarray:
    pdq = PdqSignal()
    return np.stack([pdq.extract(f, mirror=False).arrays["codes"][0] for f in frames])


def _training_use(grants: list[dict[str, Any]], decision: str, default: str) -> str:
    """Outputs showing registered works carry their grants' word on training: allowed only
    when every grant used includes training; an unlicensed (review) output is not allowed."""
    if decision == "review":
        return "notAllowed"
    if not grants:
        return default
    return "allowed" if all("training" in g.get("purposes", ()) for g in grants) else "notAllowed"
