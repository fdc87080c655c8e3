"""Training-data screening: every item of a dataset gets a decision before anyone trains on it
(purpose ``training``; only a grant allows a registered work)."""
