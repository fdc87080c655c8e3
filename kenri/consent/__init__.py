"""The consent ledger: grants are the only thing that allows use; everything else is denied."""

from kenri.consent.ledger import PURPOSES, WORLDWIDE, ConsentDecision, ConsentLedger

__all__ = ["PURPOSES", "WORLDWIDE", "ConsentDecision", "ConsentLedger"]
