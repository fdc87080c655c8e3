"""Text signals shared by prompt screening: sentence embeddings and word statistics."""
