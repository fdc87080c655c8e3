"""kenri (権利, "rights"): consent-first copyright infrastructure for generative image and video AI.

Packages by domain: ``registry`` (what is protected), ``consent`` (the ledger of grants),
``catalog`` (bulk import), ``fingerprints``, ``matching``, ``screening``, ``claims``,
``provenance``, ``service`` and ``cli``.
"""

from kenri.app import Kenri, Transaction, open
from kenri.consent.ledger import ConsentDecision
from kenri.errors import KenriError

__all__ = ["ConsentDecision", "Kenri", "KenriError", "Transaction", "open"]
__version__ = "0.1.0"
