"""Trains a KenLM model for the perplexity stage from plain text.

    python -m pipeline.lm.train --text wiki_en.txt --out en.binary --order 5 --prune 0 0 1

Every input line goes through the same normalization the stage applies when scoring
(pipeline/text/perplexity/normalize.py), then `lmplz` estimates a modified Kneser-Ney model and
`build_binary` writes it as a trie, quantized to --quantize bits unless 0 (8 bits keeps
perplexities within about 1% of the float model at about a third of its size). A JSON file next to
the model records how it was made; the stage reads it to refuse a model normalized differently.
"""

import argparse
import gzip
import hashlib
import json
import os
import subprocess
import sys
import tempfile

from pipeline.lm.build_tools import KENLM_VERSION, ToolsMissing, find_tools
from pipeline.text.perplexity.model import NORMALIZATION, SENTENCEPIECE_NORMALIZATION, metadata_path
from pipeline.text.perplexity.normalize import normalize_lines


def _open_text(path: str):
    return gzip.open(path, "rt", encoding="utf-8") if path.endswith(".gz") else open(path, encoding="utf-8")


def normalize_corpus(inputs: list[str], out_path: str, prepare=normalize_lines) -> dict[str, int | str]:
    """Writes the prepared (normalized, tokenized), non-blank lines of the inputs; returns counts
    and the sha256."""
    digest = hashlib.sha256()
    lines = tokens = 0
    with open(out_path, "w", encoding="utf-8") as out:
        for path in inputs:
            with _open_text(path) as f:
                for raw in f:
                    for line in prepare(raw):
                        data = line + "\n"
                        out.write(data)
                        digest.update(data.encode("utf-8"))
                        lines += 1
                        tokens += line.count(" ") + 1
    return {"lines": lines, "tokens": tokens, "sha256": digest.hexdigest()}


def _run(cmd: list[str], stdin_path: str | None = None, stdout_path: str | None = None) -> None:
    with open(stdin_path or os.devnull, "rb") as fin, open(stdout_path or os.devnull, "wb") as fout:
        result = subprocess.run(cmd, stdin=fin, stdout=fout, stderr=subprocess.PIPE)
    if result.returncode != 0:
        tail = result.stderr.decode("utf-8", "replace").strip().splitlines()[-5:]
        raise RuntimeError(f"`{' '.join(cmd)}` failed (exit {result.returncode}): {' | '.join(tail)}")


def train(
    inputs: list[str],
    out: str,
    *,
    order: int = 5,
    prune: list[int] | None = None,
    quantize: int = 8,
    memory: str = "20%",
    tools: dict[str, str] | None = None,
    sentencepiece: str | None = None,
) -> dict:
    """Trains and writes `out` (binary) and `out`.json (how it was made); returns that metadata."""
    if not 2 <= order <= 6:
        raise ValueError(f"order must be in [2, 6], got {order}")
    if quantize and not 2 <= quantize <= 25:
        raise ValueError(f"quantize must be 0 (off) or in [2, 25] bits, got {quantize}")
    prune = list(prune or [])
    if prune and (len(prune) > order or any(b < a for a, b in zip(prune, prune[1:])) or prune[0] != 0):
        raise ValueError(f"prune must be non-decreasing counts starting at 0, at most one per order; got {prune}")
    tools = tools or find_tools()
    out_dir = os.path.dirname(os.path.abspath(out))
    os.makedirs(out_dir, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lm-train-", dir=out_dir) as work:
        corpus = os.path.join(work, "normalized.txt")
        if sentencepiece:
            from pipeline.text.perplexity.ccnet import SentencePieceLines

            counts = normalize_corpus(inputs, corpus, SentencePieceLines(sentencepiece).lines)
        else:
            counts = normalize_corpus(inputs, corpus)
        if not counts["lines"]:
            raise ValueError("the training text has no non-blank lines")
        arpa = os.path.join(work, "model.arpa")
        lmplz = [tools["lmplz"], "-o", str(order), "-S", memory, "-T", work, "--discount_fallback"]
        if prune:
            lmplz += ["--prune", *map(str, prune)]
        _run(lmplz, stdin_path=corpus, stdout_path=arpa)
        binary = [tools["build_binary"], "-S", memory, "-T", work]
        if quantize:
            binary += ["-q", str(quantize), "-b", str(quantize)]
        staged = os.path.join(work, "model.binary")
        _run([*binary, "trie", arpa, staged])
        meta = {
            "format": "kenlm-binary-trie",
            "normalization": SENTENCEPIECE_NORMALIZATION if sentencepiece else NORMALIZATION,
            "order": order,
            "prune": prune,
            "quantize_bits": quantize,
            "training_lines": counts["lines"],
            "training_tokens": counts["tokens"],
            "training_sha256": counts["sha256"],
            "kenlm": KENLM_VERSION,
            "bytes": os.path.getsize(staged),
        }
        os.replace(staged, out)
    with open(metadata_path(out), "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=2, sort_keys=True)
        f.write("\n")
    return meta


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Train a KenLM model on normalized text.")
    parser.add_argument("--text", action="append", required=True, help="UTF-8 text file (.gz allowed); repeat for several")
    parser.add_argument("--out", required=True, help="the binary model to write")
    parser.add_argument("--order", type=int, default=5)
    parser.add_argument("--prune", type=int, nargs="*", default=[], help="lmplz --prune thresholds per order, e.g. 0 0 1")
    parser.add_argument("--quantize", type=int, default=8, help="bits per probability and backoff; 0 keeps floats")
    parser.add_argument("--memory", default="20%", help="lmplz/build_binary sort memory (-S)")
    parser.add_argument("--sentencepiece", default=None, help="a SentencePiece model: train on CCNet-normalized pieces, as CCNet's models are")
    args = parser.parse_args(argv)
    try:
        meta = train(
            args.text, args.out, order=args.order, prune=args.prune, quantize=args.quantize, memory=args.memory, sentencepiece=args.sentencepiece
        )
    except (ToolsMissing, ValueError, RuntimeError, OSError, ImportError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"{args.out}: {meta['bytes']:,} bytes, {meta['order']}-gram on {meta['training_tokens']:,} tokens")
    return 0


if __name__ == "__main__":
    sys.exit(main())
