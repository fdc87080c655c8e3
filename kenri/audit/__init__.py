"""The tamper-evident audit log: every grant, revocation, decision, claim change and key change."""
