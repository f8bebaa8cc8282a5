"""Tokenization without Beam: load or train a byte-level BPE, encode documents to id arrays."""
