"""Which key signs manifests and which roots readers trust, from the settings.

A deployment names its own certificate chain and key (``KENRI_SIGNING_CHAIN``,
``KENRI_SIGNING_KEY``) and the roots it trusts (``KENRI_TRUST_ANCHORS``, a PEM file), or passes
a ``Signing.from_callback`` to the Guard (a KMS or HSM signs; the key never reaches kenri).
With none of that, kenri makes a test CA under ``<home>/provenance/test-ca`` so the demo and
the tests sign offline; its files say "kenri test" and no one else trusts them.
"""

from __future__ import annotations

import os
from pathlib import Path

from kenri.config import Settings
from kenri.errors import InvalidInput
from kenri.provenance.manifests import Signing
from kenri.provenance.testca import CertificateFiles, ensure_test_ca


def test_ca_folder(settings: Settings) -> Path:
    return settings.home / "provenance" / "test-ca"


def default_signing(settings: Settings) -> Signing:
    chain, key = os.environ.get("KENRI_SIGNING_CHAIN"), os.environ.get("KENRI_SIGNING_KEY")
    if chain or key:
        if not (chain and key):
            raise InvalidInput("set both KENRI_SIGNING_CHAIN and KENRI_SIGNING_KEY")
        return Signing.from_files(chain, key)
    files = ensure_test_ca(test_ca_folder(settings))
    return Signing.from_files(files.chain, files.key)


def trust_anchors(settings: Settings) -> str | None:
    """The PEM roots a reader trusts: ``KENRI_TRUST_ANCHORS`` plus this home's test CA."""
    roots = []
    configured = os.environ.get("KENRI_TRUST_ANCHORS")
    if configured:
        roots.append(Path(configured).read_text())
    test_root = CertificateFiles.under(test_ca_folder(settings)).root
    if test_root.exists():
        roots.append(test_root.read_text())
    return "\n".join(roots) or None
