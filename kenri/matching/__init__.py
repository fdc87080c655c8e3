"""Indexes that find registered references similar to a query fingerprint."""
