"""C2PA manifests on generated media: signed offline with c2pa-python, read back with trust.

What a kenri manifest says: the media was made by a trained algorithm (IPTC digital source type
``trainedAlgorithmicMedia``), by which generator, under which kenri decision and grants
(``org.kenri.decision``, carrying the generation id), and whether it may be used for AI
training or data mining (``cawg.training-mining``, as the holders' grants say).

Nothing goes online: signers get no timestamp authority, readers never fetch remote manifests.
A manifest's assertions are only believed when its validation state is ``Trusted``: the Reader
returns forged assertions too, with state ``Invalid``; an unknown CA's signature is ``Valid``.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import c2pa
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from kenri.errors import KenriError, MediaError

TRAINED_ALGORITHMIC_MEDIA = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
DECISION_LABEL = "org.kenri.decision"
TRAINING_MINING_LABEL = "cawg.training-mining"
KENRI_VERSION = "0.1"
TRAINING_USES = ("allowed", "notAllowed", "constrained")
MIME_BY_EXT = {"jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png",
               "webp": "image/webp", "mp4": "video/mp4", "mov": "video/quicktime"}  # fmt: skip


class SigningError(KenriError):
    """The manifest could not be signed (certificate profile, callback failure, format)."""


class Signing:
    """Who signs: a certificate chain and key on disk, or a callback (a KMS or an HSM).

    ``from_callback``'s function gets the bytes to sign and returns an ES256 signature, raw
    r||s (64 bytes); ``der_to_raw`` converts the DER that most KMS APIs return."""

    def __init__(self, signer: c2pa.Signer, chain_pem: bytes) -> None:
        self._signer = signer
        self.chain_pem = chain_pem

    @classmethod
    def from_files(cls, chain: str | Path, key: str | Path) -> Signing:
        chain_pem, key_pem = Path(chain).read_bytes(), Path(key).read_bytes()
        info = c2pa.C2paSignerInfo(c2pa.C2paSigningAlg.ES256, chain_pem, key_pem, None)
        return cls(c2pa.Signer.from_info(info), chain_pem)

    @classmethod
    def from_callback(cls, sign: Callable[[bytes], bytes], chain_pem: bytes) -> Signing:
        algorithm = c2pa.C2paSigningAlg.ES256
        return cls(c2pa.Signer.from_callback(sign, algorithm, chain_pem.decode(), None), chain_pem)

    @property
    def signer(self) -> c2pa.Signer:
        return self._signer


def der_to_raw(der: bytes, size: int = 32) -> bytes:
    """An ECDSA signature in DER (KMS, HSM, ``cryptography``) as the raw r||s COSE wants."""
    r, s = decode_dss_signature(der)
    return r.to_bytes(size, "big") + s.to_bytes(size, "big")


def local_key_callback(key_file: str | Path) -> Callable[[bytes], bytes]:
    """A signing callback over a local P-256 key: what a KMS-backed callback looks like."""
    key = serialization.load_pem_private_key(Path(key_file).read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise SigningError("the key is not an EC key (ES256 needs P-256)")

    def sign(data: bytes) -> bytes:
        return der_to_raw(key.sign(data, ec.ECDSA(hashes.SHA256())))

    return sign


def build_manifest(
    generation_id: int,
    decision: str,
    grants: Sequence[int],
    training_use: str,
    generator: str,
    title: str = "generated media",
) -> dict[str, Any]:
    if training_use not in TRAINING_USES:
        raise ValueError(f"training use must be one of {TRAINING_USES}")
    return {
        "claim_generator_info": [{"name": generator[:200], "version": f"kenri {KENRI_VERSION}"}],
        "title": title,
        "assertions": [
            {"label": "c2pa.actions", "data": {"actions": [
                {"action": "c2pa.created", "digitalSourceType": TRAINED_ALGORITHMIC_MEDIA},
            ]}},
            # Grants as objects: c2pa stores a JSON list of small integers as a CBOR byte string.
            {"label": DECISION_LABEL, "data": {
                "generation": generation_id, "decision": decision,
                "grants": [{"id": grant} for grant in grants],
            }},
            {"label": TRAINING_MINING_LABEL, "data": {"entries": {
                key: {"use": training_use}
                for key in ("cawg.ai_generative_training", "cawg.ai_training",
                            "cawg.data_mining", "cawg.ai_inference")
            }}},
        ],
    }  # fmt: skip


def _context(anchors_pem: str | None = None) -> c2pa.Context:
    settings: dict[str, Any] = {
        "verify": {"remote_manifest_fetch": False, "ocsp_fetch": False},
        "builder": {"thumbnail": {"enabled": False}},  # the default 1024 px one triples files
    }
    if anchors_pem:
        settings["trust"] = {"user_anchors": anchors_pem}
    return c2pa.Context.from_dict(settings)


def sign_media(data: bytes, mime: str, manifest: dict[str, Any], signing: Signing) -> bytes:
    """The media with the signed manifest embedded (JPEG, PNG, WebP, MP4, MOV)."""
    builder = c2pa.Builder(manifest, context=_context())
    out = io.BytesIO()
    try:
        with builder:
            builder.sign(signing.signer, mime, io.BytesIO(data), out)
    except c2pa.C2paError as exc:
        raise SigningError(f"could not sign the manifest: {exc}") from None
    return out.getvalue()


@dataclass(frozen=True)
class ManifestReport:
    """What a file's manifest says and whether to believe it."""

    state: str  # Trusted | Valid (signature fine, signer unknown) | Invalid
    failures: list[str] = field(default_factory=list)
    assertions: dict[str, Any] = field(default_factory=dict)
    signer: str | None = None

    @property
    def trusted(self) -> bool:
        return self.state == "Trusted"

    @property
    def generation(self) -> int | None:
        """The generation id, only from a trusted manifest."""
        value = (self.assertions.get(DECISION_LABEL) or {}).get("generation")
        return value if self.trusted and isinstance(value, int) else None

    def to_dict(self) -> dict[str, Any]:
        return {"state": self.state, "trusted": self.trusted, "failures": self.failures,
                "signer": self.signer, "assertions": self.assertions}  # fmt: skip


def read_manifest(data: bytes, mime: str, anchors_pem: str | None = None) -> ManifestReport | None:
    """The active manifest of ``data``, or None when it has none (stripped or never signed)."""
    try:
        reader = c2pa.Reader.try_create(mime, io.BytesIO(data), None, _context(anchors_pem))
        if reader is None:
            return None
        with reader:
            store = json.loads(reader.json())
    except c2pa.C2paError.ManifestNotFound:
        return None
    except c2pa.C2paError as exc:
        raise MediaError(f"unreadable C2PA data: {exc}") from None
    label = store.get("active_manifest")
    manifest = (store.get("manifests") or {}).get(label) or {}
    results = (store.get("validation_results") or {}).get("activeManifest") or {}
    return ManifestReport(
        state=store.get("validation_state") or "Invalid",
        failures=[item["code"] for item in results.get("failure", [])],
        assertions={a["label"]: a.get("data") for a in manifest.get("assertions", [])},
        signer=(manifest.get("signature_info") or {}).get("issuer"),
    )


def mime_of(data: bytes) -> str | None:
    """The media type of ``data`` from its first bytes (what C2PA needs to find the manifest)."""
    if data[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[4:8] == b"ftyp":
        return "video/quicktime" if data[8:10] == b"qt" else "video/mp4"
    return None
