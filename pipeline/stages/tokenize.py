"""Tokenization: the tokenizer (loaded, or trained on one worker) reaches every worker as a side
input, and documents are encoded in batches into numpy id arrays.

    docs -> TokenizerJson     a singleton: the tokenizer.json text (read from tokenizer.path,
                              or trained on a sample drawn by id hash in the mixture's shares)
    docs -> Tokenize          TokenizedDoc(doc, ids with the end-of-document id last, words)
"""

import hashlib
import heapq
import struct
from collections.abc import Iterator
from typing import NamedTuple

import apache_beam as beam
import numpy as np
import pyarrow as pa
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics
from apache_beam.transforms.window import GlobalWindows

from pipeline import progress
from pipeline.config import ConfigError, MixtureConfig, TokenizerConfig
from pipeline.mixture import doc_hash
from pipeline.records import Document
from pipeline.stages.base import WorkerResource

STAGE = "tokenize.v1"
_TRAIN_SALT = "tokenizer-sample"


class TokenizedDoc(NamedTuple):
    doc: Document
    ids: np.ndarray  # uint16 or uint32, end-of-document id last
    words: int  # as the quality rules count words (pipeline.text.words)
    utf8_bytes: int


def read_tokenizer_json(path: str) -> str:
    with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as f:
        return f.read().decode("utf-8")


def check_tokenizer(cfg: TokenizerConfig) -> None:
    """A configured tokenizer file loads and has the end-of-document token; ConfigError if not."""
    if not cfg.path:
        return
    from pipeline.text.tokenize.tokenizer import eod_id, load_tokenizer

    if not FileSystems.exists(cfg.path):
        raise ConfigError(f"tokenizer.path: no file at {cfg.path}")
    try:
        tokenizer = load_tokenizer(read_tokenizer_json(cfg.path))
    except Exception as e:  # noqa: BLE001 - any failure to load is one line for the user
        raise ConfigError(f"tokenizer.path: {cfg.path} is not a tokenizer.json `tokenizers` can load: {str(e).splitlines()[0]}") from None
    try:
        eod_id(tokenizer, cfg.end_of_document)
    except ValueError as e:
        raise ConfigError(f"tokenizer.end_of_document: {e}") from None


_RECORD = struct.Struct(">QI")  # a packed sample record: id hash, UTF-8 length; then the text
_PACK_BYTES = 32 * 2**20  # sampled text a bundle holds before it packs it


def pack_sample(sample: list[tuple[int, str]]) -> bytes:
    """(id hash, text) records, sorted, as one zstd-compressed stream: how the training sample
    travels and waits for the trainer (a few bytes per document instead of a Python string)."""
    sink = pa.BufferOutputStream()
    with pa.CompressedOutputStream(sink, "zstd") as out:
        for h, text in sorted(sample):
            data = text.encode("utf-8")
            out.write(_RECORD.pack(h, len(data)))
            out.write(data)
    return sink.getvalue().to_pybytes()


def unpack_sample(packed: bytes) -> Iterator[tuple[int, str]]:
    """pack_sample's records, read one at a time."""
    stream = pa.CompressedInputStream(pa.BufferReader(packed), "zstd")
    while header := _read_exactly(stream, _RECORD.size):
        h, size = _RECORD.unpack(header)
        yield h, _read_exactly(stream, size).decode("utf-8")


def _read_exactly(stream, size: int) -> bytes:
    """`size` bytes, or b"" at the end of the stream (a stream may return fewer per read)."""
    data = stream.read(size)
    while 0 < len(data) < size:
        more = stream.read(size - len(data))
        if not more:
            raise ValueError("a packed training sample ends inside a record")
        data += more
    return data


def _train(packs: list[bytes], cfg: TokenizerConfig) -> str:
    from pipeline.text.tokenize.tokenizer import train_bpe

    # Hash order (the same on every runner), each pack already sorted; the trainer reads the
    # texts as it counts them, so only the compressed sample is held whole.
    texts = (text for _, text in heapq.merge(*map(unpack_sample, packs)))
    with progress.still_running(STAGE, "training the BPE tokenizer on its sample"):
        return train_bpe(texts, cfg.vocab_size, cfg.special_tokens, cfg.min_frequency).to_str()


class _SampleForTraining(beam.DoFn):
    """Documents -> packed (pack_sample) training samples: each source in its target share of
    train_bytes (all of a source that has less), each document in or out by its id hash, so order
    never matters. A bundle packs what it drew when it holds _PACK_BYTES of text, and at its end."""

    def __init__(self, cfg: TokenizerConfig, shares: dict[str, float], seed: int):
        self._cfg, self._shares, self._seed = cfg, shares, seed

    def start_bundle(self):
        self._drawn: list[tuple[int, str]] = []
        self._held = 0

    def process(self, doc: Document, by_source: dict[str, int]):
        size = by_source.get(doc.source)
        if not size:
            return
        present = sum(self._shares[s] for s in by_source)
        rate = min(1.0, self._shares[doc.source] / present * self._cfg.train_bytes / size)
        h = doc_hash(self._seed, doc.id, _TRAIN_SALT)
        if h < rate * 2**64:
            self._drawn.append((h, doc.text))
            self._held += len(doc.text)
            if self._held >= _PACK_BYTES:
                yield self._pack()

    def finish_bundle(self):
        if self._drawn:
            yield GlobalWindows.windowed_value(self._pack())

    def _pack(self) -> bytes:
        drawn, self._drawn, self._held = self._drawn, [], 0
        return pack_sample(drawn)


class TokenizerJson(beam.PTransform):
    """docs -> a singleton collection holding the tokenizer.json text."""

    def __init__(self, cfg: TokenizerConfig, mixture: MixtureConfig, seed: int):
        super().__init__()
        self._cfg, self._mixture, self._seed = cfg, mixture, seed

    def expand(self, docs):
        cfg, shares, seed = self._cfg, dict(self._mixture.shares), self._seed
        if cfg.path:
            path = cfg.path
            return docs.pipeline | "TokenizerPath" >> beam.Create([path]) | "ReadTokenizer" >> beam.Map(read_tokenizer_json)

        def text_bytes(doc: Document):
            if shares.get(doc.source, 0) > 0:
                yield doc.source, len(doc.text.encode("utf-8"))

        sizes = (
            docs | "SourceBytes" >> beam.FlatMap(text_bytes) | "SumSourceBytes" >> beam.CombinePerKey(sum) | "SizesByDict" >> beam.combiners.ToDict()
        )
        return (
            docs
            | "TrainingSample" >> beam.ParDo(_SampleForTraining(cfg, shares, seed), beam.pvalue.AsSingleton(sizes))
            | "CollectSample" >> beam.combiners.ToList()
            | "TrainBPE" >> beam.Map(_train, cfg)
        )


class LoadedTokenizer(NamedTuple):
    tokenizer: object  # tokenizers.Tokenizer
    eod: int  # the end-of-document id
    vocab_size: int
    special: dict  # special token -> id, for those in the vocabulary


def _load_tokenizer(eod_token: str, specials: tuple[str, ...], tokenizer_json: str) -> LoadedTokenizer:
    from pipeline.text.tokenize.tokenizer import eod_id, load_tokenizer

    tokenizer = load_tokenizer(tokenizer_json)
    special = {t: tokenizer.token_to_id(t) for t in specials if tokenizer.token_to_id(t) is not None}
    return LoadedTokenizer(tokenizer, eod_id(tokenizer, eod_token), tokenizer.get_vocab_size(), special)


class TokenizerOnWorker:
    """The tokenizer.json side input, loaded once per worker process (WorkerResource) and hashed
    once per side-input object (a worker's bundles get the same object)."""

    def __init__(self, eod_token: str, specials: tuple[str, ...] = ()):
        self._resource = WorkerResource(_load_tokenizer, eod_token, tuple(specials))
        self._json: str | None = None
        self._digest = ""

    def get(self, tokenizer_json: str) -> LoadedTokenizer:
        if tokenizer_json is not self._json:
            self._json = tokenizer_json
            self._digest = hashlib.sha256(tokenizer_json.encode("utf-8")).hexdigest()
        return self._resource.get(tokenizer_json, key=self._digest)

    def __getstate__(self):
        return {**self.__dict__, "_json": None, "_digest": ""}


class _TokenizeBatch(beam.DoFn):
    def __init__(self, cfg: TokenizerConfig):
        self._cfg = cfg
        self._loaded = TokenizerOnWorker(cfg.end_of_document)
        self._progress = progress.Meter(STAGE)

    def setup(self):
        self._tokens = Metrics.counter(STAGE, "tokens")

    def process(self, batch: list[Document], tokenizer_json: str):
        from pipeline.text.tokenize.tokenizer import encode_documents, per_document
        from pipeline.text.words import count_words

        loaded = self._loaded.get(tokenizer_json)
        flat, offsets = encode_documents(loaded.tokenizer, [d.text for d in batch], loaded.eod, self._cfg.chunk_chars)
        self._tokens.inc(int(flat.size))
        for doc, ids in zip(batch, per_document(flat, offsets)):
            # A copy, so each row owns its ids rather than pinning the whole batch's array.
            yield TokenizedDoc(doc, ids.copy(), count_words(doc.text), len(doc.text.encode("utf-8")))
        self._progress.advance(batch)


class Tokenize(beam.PTransform):
    """docs -> TokenizedDoc, one per document, in batches of batch_size."""

    def __init__(self, cfg: TokenizerConfig, tokenizer_json):
        super().__init__()
        self._cfg = cfg
        self._tokenizer_json = tokenizer_json

    def expand(self, docs):
        size = self._cfg.batch_size
        return (
            docs
            | "Batch" >> beam.BatchElements(min_batch_size=size, max_batch_size=size)
            | "Encode" >> beam.ParDo(_TokenizeBatch(self._cfg), beam.pvalue.AsSingleton(self._tokenizer_json))
        )
