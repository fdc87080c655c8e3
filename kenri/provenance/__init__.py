"""Provenance of generated media: C2PA manifests, watermarks, the generation ledger."""
