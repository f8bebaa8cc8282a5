"""Load or train a byte-level BPE tokenizer and encode documents into flat id arrays. No Beam here.

What we add to calling `tokenizers` directly, and why:
- training is byte-level BPE set up like GPT-2 and is deterministic: `tokenizers` 0.23 counts
  words and pairs into hash maps but orders merges by (count, pair ids) and the alphabet by code
  point, so the same texts give a byte-identical `to_str()` whatever the thread count
  (RAYON_NUM_THREADS 1 to 32 checked), PYTHONHASHSEED or text order; no setting is needed;
- document text never yields a special id: `encode_special_tokens` is switched on, so a literal
  "<|endoftext|>" inside a document is encoded as the characters it is (as tiktoken's
  encode_ordinary does), and only the end-of-document id we append marks a document's end;
- documents longer than `chunk_chars` are cut into pieces before encoding, at points where the
  cut provably cannot change the ids (see `split_points`), so one long document is encoded by all
  of `tokenizers`' threads instead of one;
- one `encode_batch_fast` call per batch (the ids without offsets, which we never use), and the
  ids go straight into one flat numpy array plus offsets: what an Arrow ListArray is made of.
"""

import re
from collections.abc import Iterable
from itertools import chain

import numpy as np
import pyarrow as pa
from tokenizers import Tokenizer

from schemas.tokens import token_dtype

END_OF_DOCUMENT = "<|endoftext|>"
# Documents longer than this are split into pieces of about this many characters. Long enough that
# the cut and the per-piece overhead are negligible, short enough that a megabyte-long document
# becomes dozens of pieces for the threads to share.
CHUNK_CHARS = 32_768

# A cut candidate: a space or newline between two non-whitespace characters (see split_points).
_CANDIDATE = re.compile(r"(?<=\S)(?=[ \n]\S)")
_WINDOW = 64  # characters each side of a candidate cut that the safety check re-encodes
_MAX_REJECTS = 8  # consecutive unsafe candidates after which the rest of a document stays whole


def load_tokenizer(path_or_json: str) -> Tokenizer:
    """A tokenizer from a `tokenizer.json` path, or from that JSON text itself (how a tokenizer
    trained inside the pipeline travels as a side input)."""
    if path_or_json.lstrip().startswith("{"):
        tokenizer = Tokenizer.from_str(path_or_json)
    else:
        tokenizer = Tokenizer.from_file(path_or_json)
    tokenizer.encode_special_tokens = True
    return tokenizer


def train_bpe(texts: Iterable[str], vocab_size: int, special_tokens: list[str], min_frequency: int = 2) -> Tokenizer:
    """Byte-level BPE as GPT-2 has it: GPT-2's split regex (no prefix space), the 256 byte symbols
    always in the vocabulary (so any text encodes, nothing is unknown), byte-level decoding.

    Ids: the special tokens first, in the given order (so `special_tokens[0]` is id 0), then the
    256 byte symbols in code-point order, then merges in the order learnt. The vocabulary may stay
    below vocab_size when too few pairs occur min_frequency times."""
    from tokenizers import decoders, models, pre_tokenizers, processors, trainers

    alphabet = pre_tokenizers.ByteLevel.alphabet()
    if vocab_size < len(alphabet) + len(special_tokens):
        raise ValueError(f"vocab_size {vocab_size} is below the {len(alphabet)} byte symbols plus {len(special_tokens)} special tokens")
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tokenizer.decoder = decoders.ByteLevel()
    tokenizer.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=min_frequency,
        special_tokens=list(special_tokens),
        initial_alphabet=alphabet,
        show_progress=False,
    )
    tokenizer.train_from_iterator(texts, trainer=trainer)
    tokenizer.encode_special_tokens = True
    return tokenizer


def eod_id(tokenizer: Tokenizer, token: str = END_OF_DOCUMENT) -> int:
    """The id of the end-of-document token, or ValueError naming it."""
    id_ = tokenizer.token_to_id(token)
    if id_ is None:
        raise ValueError(f"end-of-document token {token!r} is not in the tokenizer's vocabulary ({tokenizer.get_vocab_size()} ids)")
    return id_


def split_points(tokenizer: Tokenizer, text: str, chunk_chars: int = CHUNK_CHARS) -> list[int]:
    """Where to cut `text` into pieces of at least chunk_chars characters (the last one may be
    shorter) such that encoding the pieces one by one gives the same ids as encoding the whole.

    A cut goes before a space or newline that follows a non-whitespace character (and precedes
    one). Why that is safe for GPT-2's split regex,
        's|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+
    (`tokenizers`' ByteLevel(use_regex=True)): every character is matched by some alternative, and
    a match that contains whitespace either is all whitespace or has one space as its first
    character. So no match holds both the non-whitespace character before the cut and the
    whitespace after it: some match ends exactly at the cut. Left of the cut the matches are
    the same with or without the text after it (the only look-ahead, (?!\\S), sits in a whitespace
    run, which ends before the cut, and the greedy runs stop at the whitespace anyway), and from
    the cut on the scan restarts as at the start of a string (no look-behind, no anchors). Same
    pre-tokens, and BPE works on each pre-token alone, so the same ids. Llama-3's regex keeps this
    for a space but not for a newline after punctuation (its [^\\s\\p{L}\\p{N}]+[\\r\\n]* takes
    the newline along), so the argument is not taken on trust: each candidate is also checked with
    the tokenizer itself, on the text around it (normalizer, pre-tokenizer and the ids of both
    sides against the whole), and an unsafe candidate is skipped for the next one. A tokenizer
    without a pre-tokenizer, or a document with no safe candidate, is not split.
    """
    points: list[int] = []
    if len(text) <= chunk_chars or tokenizer.pre_tokenizer is None:
        return points
    start, rejects = 0, 0
    search_from = chunk_chars
    while len(text) - start > chunk_chars:
        match = _CANDIDATE.search(text, search_from)
        if match is None:
            break
        cut = match.start()
        if _cut_is_safe(tokenizer, text, cut):
            points.append(cut)
            start, rejects = cut, 0
            search_from = cut + chunk_chars
        else:
            rejects += 1
            if rejects >= _MAX_REJECTS:
                break
            search_from = cut + 1
    return points


def _cut_is_safe(tokenizer: Tokenizer, text: str, cut: int) -> bool:
    """Whether the tokenizer reads the text around `cut` the same cut or whole."""
    left, right = text[max(0, cut - _WINDOW) : cut], text[cut : cut + _WINDOW]
    whole = left + right
    if tokenizer.normalizer is not None:
        left, right, whole = (tokenizer.normalizer.normalize_str(s) for s in (left, right, whole))
        if left + right != whole:
            return False
    pieces = lambda s: [piece for piece, _ in tokenizer.pre_tokenizer.pre_tokenize_str(s)]  # noqa: E731
    if pieces(left) + pieces(right) != pieces(whole):
        return False
    left_ids, right_ids, whole_ids = (e.ids for e in tokenizer.encode_batch_fast([left, right, whole], add_special_tokens=False))
    return left_ids + right_ids == whole_ids


def encode_documents(tokenizer: Tokenizer, texts: list[str], eod: int, chunk_chars: int = CHUNK_CHARS, dtype=None) -> tuple[np.ndarray, np.ndarray]:
    """(flat ids, offsets): document i's ids, end-of-document id last, are flat[offsets[i]:offsets[i+1]].

    flat has `dtype` (default: token_dtype of the vocabulary size, i.e. uint16 below 65,537 ids),
    offsets are int32 (len(texts) + 1 of them), as `token_list_array` wants them. Turns on the
    tokenizer's encode_special_tokens (see the module docstring)."""
    dtype = token_dtype(tokenizer.get_vocab_size()) if dtype is None else np.dtype(dtype)
    if not 0 <= eod < tokenizer.get_vocab_size():
        raise ValueError(f"end-of-document id {eod} is outside the vocabulary [0, {tokenizer.get_vocab_size()})")
    if not texts:
        return np.zeros(0, dtype), np.zeros(1, np.int32)
    if not tokenizer.encode_special_tokens:
        tokenizer.encode_special_tokens = True
    pieces, first = _pieces(tokenizer, texts, chunk_chars)
    ids = [e.ids for e in tokenizer.encode_batch_fast(pieces, add_special_tokens=False)]
    if first is None:  # one piece per document, the usual case
        for doc_ids in ids:
            doc_ids.append(eod)
    else:
        for i in first[1:]:
            ids[i - 1].append(eod)
        ids[-1].append(eod)
    lengths = np.fromiter(map(len, ids), np.int64, count=len(ids))
    flat = np.fromiter(chain.from_iterable(ids), dtype, count=int(lengths.sum()))
    if first is not None:
        lengths = np.add.reduceat(lengths, first)
    offsets = np.zeros(len(texts) + 1, np.int32)
    np.cumsum(lengths, out=offsets[1:])
    return flat, offsets


def _pieces(tokenizer: Tokenizer, texts: list[str], chunk_chars: int) -> tuple[list[str], np.ndarray | None]:
    """The texts to encode, and the index of each document's first piece (None: one piece each)."""
    if max(map(len, texts)) <= chunk_chars:
        return texts, None
    pieces: list[str] = []
    first = np.empty(len(texts), np.int64)
    for i, text in enumerate(texts):
        first[i] = len(pieces)
        cuts = split_points(tokenizer, text, chunk_chars) if len(text) > chunk_chars else []
        if cuts:
            bounds = [0, *cuts, len(text)]
            pieces.extend(text[a:b] for a, b in zip(bounds, bounds[1:]))
        else:
            pieces.append(text)
    return pieces, first


def per_document(flat: np.ndarray, offsets: np.ndarray) -> list[np.ndarray]:
    """One array (a view into flat) per document."""
    return np.split(flat, offsets[1:-1])


def token_list_array(flat: np.ndarray, offsets: np.ndarray) -> pa.ListArray:
    """The token shard's `tokens` column from encode_documents' arrays, without copying them."""
    item = pa.field("item", pa.from_numpy_dtype(flat.dtype), nullable=False)
    return pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), pa.array(flat), type=pa.list_(item))
