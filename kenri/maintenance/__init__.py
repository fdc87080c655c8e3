"""Keeping a registry healthy: backups (export and restore) and the consistency check."""
