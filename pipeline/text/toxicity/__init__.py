"""Toxicity signals as pure functions: LDNOOBW word-list matches and alt-profanity-check's
classifier probability (no Beam here)."""
