"""Claims and inquiries from rights holders about outputs, with a tamper-evident log."""
