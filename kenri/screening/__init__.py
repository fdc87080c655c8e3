"""Screening of prompts, generated media and training data against the registry."""
