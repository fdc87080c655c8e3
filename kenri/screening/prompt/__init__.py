"""Prompt screening: registered names in every script, obfuscated or not, before generation."""
