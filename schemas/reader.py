"""Reading what a run wrote: a validated manifest and its shards, memory-mapped.

    data = TokenData("runs/x/tokens/manifest.json")
    table = data.open_shard(0)          # sha256 checked on first open; zero-copy tokens column
    for tokens in data.documents():     # every row's token ids (eod included), numpy views of the mapped files
        ...
    paths = data.shard_paths()          # the shard files, checked, for other readers (HF datasets' "arrow")

Used by the trainer and the tests; needs only pyarrow and the standard library.
"""

import hashlib
import os
from collections.abc import Iterator

import numpy as np
import pyarrow as pa

from schemas.manifest import Manifest, ManifestError, ShardInfo
from schemas.tokens import read_token_shard


def file_sha256(path: str, chunk: int = 16 * 2**20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()


class TokenData:
    def __init__(self, manifest_path: str):
        self.manifest_path = os.path.abspath(manifest_path)
        self.root = os.path.dirname(self.manifest_path)
        try:
            with open(self.manifest_path, encoding="utf-8") as f:
                text = f.read()
        except OSError as e:
            raise ManifestError(f"cannot read {manifest_path}: {e.strerror}") from None
        self.manifest = Manifest.from_json(text)
        self._verified: set[int] = set()

    @property
    def shards(self) -> list[ShardInfo]:
        return self.manifest.shards

    def path(self, relative: str) -> str:
        """A manifest path resolved inside the manifest's folder (symlinks included)."""
        full = os.path.realpath(os.path.join(self.root, relative))
        if os.path.commonpath([full, os.path.realpath(self.root)]) != os.path.realpath(self.root):
            raise ManifestError(f"{relative} resolves outside {self.root}")
        return full

    @property
    def tokenizer_path(self) -> str:
        return self.path(self.manifest.tokenizer.file)

    def verify(self, index: int) -> None:
        """The shard's bytes are the ones the manifest describes; ManifestError naming it if not."""
        shard = self.shards[index]
        path = self.path(shard.path)
        if not os.path.exists(path):
            raise ManifestError(f"shard {shard.path} is missing (expected at {path})")
        actual = file_sha256(path)
        if actual != shard.sha256:
            raise ManifestError(f"shard {shard.path} is corrupt or was replaced: sha256 {actual} != manifest's {shard.sha256}")
        self._verified.add(index)

    def open_shard(self, index: int, verify: bool = True) -> pa.Table:
        if verify and index not in self._verified:
            self.verify(index)
        table = read_token_shard(self.path(self.shards[index].path))
        if table.num_rows != self.shards[index].rows:
            raise ManifestError(f"shard {self.shards[index].path} has {table.num_rows} rows, manifest says {self.shards[index].rows}")
        return table

    def shard_paths(self, verify: bool = True) -> list[str]:
        """Every shard's file, in manifest order, each checked against its sha256 first (unless verify=False)."""
        for index in range(len(self.shards)):
            if verify and index not in self._verified:
                self.verify(index)
        return [self.path(shard.path) for shard in self.shards]

    def documents(self) -> Iterator[np.ndarray]:
        """Every row's token ids, end-of-document id included, shard by shard in manifest order and
        rows in file order: zero-copy numpy views of the memory-mapped shards (uint16 or uint32)."""
        for index in range(len(self.shards)):
            for chunk in self.open_shard(index).column("tokens").chunks:
                values = chunk.values.to_numpy(zero_copy_only=True)
                offsets = chunk.offsets.to_numpy()  # into values, this chunk's slice of it included
                for start, end in zip(offsets[:-1].tolist(), offsets[1:].tolist()):
                    yield values[start:end]
