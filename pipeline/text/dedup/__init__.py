"""Deduplication logic (no Beam): exact hashes, MinHash-LSH, SimHash, repeated paragraphs."""
