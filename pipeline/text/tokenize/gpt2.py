"""GPT-2's tokenizer as a `tokenizer.json`, made offline from the BPE ranks in the openai-whisper sdist.

    python -m pipeline.text.tokenize.gpt2 [--out PATH]   # default ~/.cache/corpusforge/gpt2/tokenizer.json

Why this way: `tokenizers` ships no vocabulary and tiktoken downloads its files at run time from a
host we cannot reach, but the openai-whisper source distribution on PyPI (MIT) carries GPT-2's
ranks as whisper/assets/gpt2.tiktoken: one "base64(token bytes) rank" line per token, ranks
0..50255. We fetch it with pip (pinned version, checked sha256) and convert it the way
tiktoken-to-HF converters do:
- ids are the ranks, and each token's bytes are written in GPT-2's byte-to-unicode alphabet
  (what the ByteLevel pre-tokenizer maps raw bytes to);
- merges are not stored in a .tiktoken file, only implied: the token of rank r is the merge of
  the two parts that byte-pair encoding of its own bytes, allowed only merges of rank < r, ends
  with. Listed in rank order, they make `tokenizers`' BPE pick the same merges as tiktoken;
- `<|endoftext|>` is id 50256, a special token, as in GPT-2.
The result (1.6 MB of JSON, 0.56 MB gzipped) reproduces GPT-2's ids; tests/text/tokenize/test_gpt2.py checks
known ids and, where tiktoken is installed, every sample document against tiktoken on the same ranks.
"""

import argparse
import base64
import hashlib
import io
import os
import subprocess
import sys
import tarfile
import tempfile

WHISPER_VERSION = "20250625"
RANKS_MEMBER = f"openai_whisper-{WHISPER_VERSION}/whisper/assets/gpt2.tiktoken"
RANKS_SHA256 = "306cd27f03c1a714eca7108e03d66b7dc042abe8c258b44c199a7ed9838dd930"
END_OF_TEXT = "<|endoftext|>"
END_OF_TEXT_ID = 50256
# tiktoken's "gpt2" split pattern; `tokenizers`' ByteLevel(use_regex=True) uses the same one.
PATTERN = r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""


def default_path() -> str:
    return os.path.join(os.path.expanduser("~"), ".cache", "corpusforge", "gpt2", "tokenizer.json")


def download_ranks() -> bytes:
    """gpt2.tiktoken from the pinned openai-whisper sdist, fetched with pip (PyPI only).

    Raises RuntimeError (with pip's last words) when pip cannot fetch it, ValueError when the
    file is not the one we pinned."""
    with tempfile.TemporaryDirectory(prefix="gpt2-ranks-") as work:
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--no-binary",
            "openai-whisper",
            f"openai-whisper=={WHISPER_VERSION}",
            "-d",
            work,
            "--quiet",
        ]
        result = subprocess.run(cmd, capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"`{' '.join(cmd)}` failed: {(result.stderr or result.stdout).strip()[-1500:]}")
        (sdist,) = [f for f in os.listdir(work) if f.endswith(".tar.gz")]
        with tarfile.open(os.path.join(work, sdist)) as tar:
            data = tar.extractfile(RANKS_MEMBER).read()
    digest = hashlib.sha256(data).hexdigest()
    if digest != RANKS_SHA256:
        raise ValueError(f"{RANKS_MEMBER}: sha256 {digest}, expected {RANKS_SHA256}")
    return data


def parse_ranks(data: bytes) -> dict[bytes, int]:
    """{token bytes: rank} from a .tiktoken file's contents."""
    ranks = {}
    for line in io.BytesIO(data):
        if line.strip():
            token, rank = line.split()
            ranks[base64.b64decode(token)] = int(rank)
    return ranks


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's printable stand-in for each byte: printable Latin-1 bytes stand for themselves, the
    other 68 bytes map to U+0100 onwards in byte order (what ByteLevel.alphabet() holds)."""
    keep = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    out, extra = {b: chr(b) for b in keep}, 0
    for b in range(256):
        if b not in out:
            out[b] = chr(256 + extra)
            extra += 1
    return out


def _final_pair(ranks: dict[bytes, int], token: bytes, max_rank: int) -> tuple[bytes, bytes]:
    """The two parts byte-pair encoding of `token` stops at when only merges ranked below
    max_rank are allowed: the merge that made the token."""
    parts = [token[i : i + 1] for i in range(len(token))]
    while len(parts) > 2:
        best, best_rank = -1, max_rank
        for i in range(len(parts) - 1):
            rank = ranks.get(parts[i] + parts[i + 1])
            if rank is not None and rank < best_rank:
                best, best_rank = i, rank
        if best < 0:
            break
        parts[best : best + 2] = [parts[best] + parts[best + 1]]
    if len(parts) != 2:
        raise ValueError(f"token {token!r} (rank {max_rank}) is not a merge of two lower-ranked tokens")
    return parts[0], parts[1]


def merges_from_ranks(ranks: dict[bytes, int]) -> list[tuple[bytes, bytes]]:
    """The merges implied by the ranks of the multi-byte tokens, in rank order."""
    return [_final_pair(ranks, token, rank) for token, rank in sorted(ranks.items(), key=lambda kv: kv[1]) if len(token) > 1]


def tokenizer_from_ranks(ranks: dict[bytes, int]):
    """A GPT-2 `tokenizers.Tokenizer` (byte-level BPE, `<|endoftext|>` special) from the ranks."""
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, processors

    if len(ranks) != END_OF_TEXT_ID or sorted(ranks.values()) != list(range(END_OF_TEXT_ID)):
        raise ValueError(f"expected ranks 0..{END_OF_TEXT_ID - 1}, got {len(ranks)} tokens")
    char = bytes_to_unicode()
    spell = lambda token: "".join(char[b] for b in token)  # noqa: E731
    vocab = {spell(token): rank for token, rank in ranks.items()}
    vocab[END_OF_TEXT] = END_OF_TEXT_ID
    merges = [(spell(a), spell(b)) for a, b in merges_from_ranks(ranks)]
    tokenizer = Tokenizer(models.BPE(vocab=vocab, merges=merges))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tokenizer.decoder = decoders.ByteLevel()
    tokenizer.post_processor = processors.ByteLevel(trim_offsets=False)
    tokenizer.add_special_tokens([AddedToken(END_OF_TEXT, special=True, normalized=False)])
    if tokenizer.token_to_id(END_OF_TEXT) != END_OF_TEXT_ID or tokenizer.get_vocab_size() != END_OF_TEXT_ID + 1:
        raise AssertionError("GPT-2 conversion: <|endoftext|> is not id 50256 of 50257")
    return tokenizer


def build(out: str | None = None) -> str:
    """Downloads the ranks and writes GPT-2's tokenizer.json to `out` (atomically). Returns the path."""
    out = out or default_path()
    tokenizer = tokenizer_from_ranks(parse_ranks(download_ranks()))
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    tmp = f"{out}.tmp{os.getpid()}"
    tokenizer.save(tmp, pretty=False)
    os.replace(tmp, out)
    return out


def ensure(path: str | None = None) -> str:
    """The cached tokenizer.json, built on first use (a few seconds plus the pip download)."""
    path = path or default_path()
    return path if os.path.exists(path) else build(path)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=default_path(), help="where to write tokenizer.json (default: %(default)s)")
    args = parser.parse_args(argv)
    print(build(args.out))


if __name__ == "__main__":
    main()
