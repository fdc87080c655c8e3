"""Fingerprints of media (perceptual hashes, local features, learned descriptors)."""
