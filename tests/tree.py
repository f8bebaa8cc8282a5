"""Helpers the end-to-end tests share."""

import hashlib
import os


def tree_digest(root) -> dict[str, str]:
    """Every file under `root` (relative path) -> the sha256 of its bytes: two runs' folders compare equal iff byte-identical."""
    out = {}
    for dirpath, _, files in os.walk(root):
        for name in files:
            path = os.path.join(dirpath, name)
            with open(path, "rb") as f:
                out[os.path.relpath(path, root)] = hashlib.sha256(f.read()).hexdigest()
    return out
