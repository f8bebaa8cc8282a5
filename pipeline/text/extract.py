"""HTML bytes -> main-content text, title and length, or the reason there is none. No Beam here.

Methods (`ExtractConfig.method`):
- "resiliparse": resiliparse `extract_plain_text(tree, main_content=True)`, as DCLM and dolma
  run it. Fast (C++), but keeps navigation and footer blocks it does not recognise.
- "resiliparse_pruned" (default, "ours"): the same, with elements whose class or id names them
  boilerplate skipped first (`skip_elements`, CSS selectors evaluated in C++). The word list is
  Mozilla Readability's `unlikelyCandidates` (footer, header, menu, sidebar, related,
  breadcrumbs, pagination...) plus the HTML5 landmarks `nav`, `footer`, `[role=navigation]`,
  `[role=contentinfo]`, and, like Readability's `okMaybeItsACandidate`, never an element whose
  class or id also says content/main/article. If pruning leaves nothing, the unpruned text is
  used. bench/bench_extract.py measures what each part contributes: on 216 Debian manual pages
  (3 site templates) the opening sentence is kept on 95.4% with or without pruning, and
  navigation/footer strings are left on 6.5% of pages without it, 0% with it, at 0.97x the
  speed (302 pages/s, 20 MB/s on one core; trafilatura: 13 pages/s, 86.6% / 6.0%).
- "trafilatura": `trafilatura.extract` with FineWeb's settings (datatrove's Trafilatura
  extractor: favor_precision=True, include_comments=False, deduplicate=True).

Charset: the HTTP header's, else a <meta charset> / http-equiv tag in the first 4 KiB (the HTML5
prescan reads 1 KiB; pages with long scripts first declare it later), else uchardet's guess
(resiliparse `detect_encoding`; when its guess does not decode, windows-1252 if that does); labels are mapped as browsers do (WHATWG: latin-1 and ascii
mean windows-1252). Bytes that still fail decode to U+FFFD and are counted.

Limits: documents over `max_html_bytes` are rejected unparsed (`extract_too_large`): that bounds
resiliparse, whose C++ call cannot be interrupted but is linear in the input. trafilatura is
pure Python on lxml: it runs under a per-thread deadline (`sys.settrace` on call events, which
works in any Beam worker thread, needs no signal and no extra thread) that raises out of the
extraction once `timeout_s` has passed (`extract_timeout`). The same deadline bounds our
pruning's fallback logic. `extract_empty`: nothing left.
"""

import codecs
import re
import sys
import time
import typing
from dataclasses import dataclass
from typing import Literal

from resiliparse.extract.html2text import extract_plain_text
from resiliparse.parse.encoding import detect_encoding, map_encoding_to_html5
from resiliparse.parse.html import HTMLTree

from pipeline.records import Reason
from pipeline.settings import check


@dataclass(frozen=True, kw_only=True)
class ExtractConfig:
    """HTML to main-content text, for WARC responses (pipeline.text.extract)."""

    # resiliparse_pruned: resiliparse's main-content extraction (DCLM, dolma) after dropping the
    # elements Mozilla Readability names as boilerplate; trafilatura: FineWeb's settings, ~20x slower.
    method: Literal["resiliparse", "resiliparse_pruned", "trafilatura"] = "resiliparse_pruned"
    # Common Crawl truncates payloads at 1 MiB; real pages above 2 MB are mostly data dumps.
    max_html_bytes: int = 2_000_000
    # datatrove's extractors default to 0.1 s per document; trafilatura averaged 75 ms a page on
    # the Debian manuals (66 KB each, bench/bench_extract.py), so 1 s only stops pathological pages.
    timeout_s: float = 1.0
    min_chars: int = 1  # fewer non-space characters left is extract_empty
    batch_size: int = 64

    def __post_init__(self):
        methods = typing.get_args(typing.get_type_hints(ExtractConfig)["method"])
        check(self.method in methods, "extract.method", f"must be one of {list(methods)}, got {self.method!r}")
        check(self.max_html_bytes >= 1, "extract.max_html_bytes", "must be >= 1")
        check(0 < self.timeout_s <= 600, "extract.timeout_s", f"must be in (0, 600], got {self.timeout_s}")
        check(self.min_chars >= 1, "extract.min_chars", "must be >= 1")
        check(1 <= self.batch_size <= 100_000, "extract.batch_size", "must be in [1, 100000]")


EXTRACT_STAGE = "extract.html.v1"


class ExtractReason(Reason):
    EMPTY = "extract_empty"
    TIMEOUT = "extract_timeout"
    TOO_LARGE = "extract_too_large"


@dataclass(frozen=True, kw_only=True)
class Extracted:
    text: str
    title: str
    chars: int  # len(text)
    charset: str  # the codec the bytes were decoded with
    charset_source: Literal["http", "meta", "detected"]
    replaced_chars: int  # U+FFFD produced by decoding

    def scores(self, stage_id: str = EXTRACT_STAGE) -> dict[str, float]:
        return {f"{stage_id}:chars": float(self.chars), f"{stage_id}:replaced_chars": float(self.replaced_chars)}


@dataclass(frozen=True, kw_only=True)
class ExtractFailure:
    reason: ExtractReason
    detail: str


# ---------------------------------------------------------------- charset

_META = re.compile(
    rb"""<meta[^>]+?(?:charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)|content\s*=\s*["'][^"'>]*?charset\s*=\s*([a-zA-Z0-9_.:-]+))""",
    re.IGNORECASE,
)
_PRESCAN_BYTES = 4096


def _python_codec(label: str) -> str | None:
    """A WHATWG label -> a Python codec name, or None when neither knows it."""
    mapped = map_encoding_to_html5(label, fallback_utf8=False) if label else None
    for name in (mapped, label):
        if not name:
            continue
        try:
            return "utf-8" if name.lower() in ("utf-8", "utf8") else codecs.lookup(name).name
        except LookupError:
            continue
    return None


def choose_charset(html: bytes, http_charset: str | None) -> tuple[str, Literal["http", "meta", "detected"]]:
    if http_charset and (codec := _python_codec(http_charset)):
        return codec, "http"
    m = _META.search(html[:_PRESCAN_BYTES])
    if m and (codec := _python_codec((m.group(1) or m.group(2)).decode("ascii"))):
        return codec, "meta"
    return _python_codec(detect_encoding(html)) or "utf-8", "detected"


def decode_html(html: bytes, http_charset: str | None) -> tuple[str, str, Literal["http", "meta", "detected"], int]:
    """(text, codec, where the codec came from, U+FFFD characters produced by decoding)."""
    codec, source = choose_charset(html, http_charset)
    try:
        return html.decode(codec), codec, source, 0
    except UnicodeDecodeError:
        if source == "detected" and codec != "cp1252":
            # uchardet says UTF-8 for a mostly-ASCII page with a few Latin-1 bytes; bytes that are
            # not UTF-8 cannot be UTF-8, and windows-1252 is the browsers' default for such pages.
            try:
                return html.decode("cp1252"), "cp1252", source, 0
            except UnicodeDecodeError:
                pass
        text = html.decode(codec, errors="replace")
        return text, codec, source, text.count("\ufffd")  # includes any U+FFFD the page itself had


# ---------------------------------------------------------------- deadline


class DeadlineExceeded(BaseException):
    """BaseException, so library code's `except Exception` cannot swallow it."""


def run_with_deadline(fn, timeout_s: float):
    """fn() in this thread, raising DeadlineExceeded at the first Python call after timeout_s.
    C code that never calls back into Python is not interrupted (hence the size limit)."""
    deadline = time.monotonic() + timeout_s
    previous = sys.gettrace()

    def tracer(frame, event, arg):
        if event == "call" and time.monotonic() > deadline:
            raise DeadlineExceeded
        # no per-line tracing inside frames: only call events cost anything

    sys.settrace(tracer)
    try:
        return fn()
    finally:
        sys.settrace(previous)


# ---------------------------------------------------------------- extraction

# Mozilla Readability's unlikelyCandidates words that name page furniture (its list also has
# words such as "comment" or "extra" that mark content on many sites; those are left out).
_BOILERPLATE_WORDS = ("footer", "header", "menu", "sidebar", "related", "breadcrumb", "pagination", "pager", "banner", "social", "sponsor", "cookie")
_KEEP_WORDS = ("content", "main", "article", "body")  # Readability's okMaybeItsACandidate
_KEEP = "".join(f":not([{a}*={w} i])" for a in ("class", "id") for w in _KEEP_WORDS)
PRUNE_SELECTORS = ["nav", "footer", "[role=navigation]", "[role=contentinfo]"] + [
    f"[{attr}*={word} i]{_KEEP}" for word in _BOILERPLATE_WORDS for attr in ("class", "id")
]


def _resiliparse(text_html: str, prune: bool) -> tuple[str, str]:
    tree = HTMLTree.parse(text_html)
    title = tree.title or ""
    if prune:
        out = extract_plain_text(tree, main_content=True, skip_elements=PRUNE_SELECTORS)
        if out.strip():
            return out, title
    return extract_plain_text(tree, main_content=True), title


def _trafilatura(text_html: str) -> tuple[str, str]:
    import trafilatura  # imported on first use: it is optional and slow to import

    out = trafilatura.extract(text_html, favor_precision=True, include_comments=False, deduplicate=True, with_metadata=False)
    title_m = re.search(r"<title[^>]*>(.*?)</title>", text_html[: _PRESCAN_BYTES * 4], re.IGNORECASE | re.DOTALL)
    return out or "", " ".join(title_m.group(1).split()) if title_m else ""


def extract_html(html: bytes, http_charset: str | None, cfg: ExtractConfig) -> Extracted | ExtractFailure:
    if len(html) > cfg.max_html_bytes:
        return ExtractFailure(reason=ExtractReason.TOO_LARGE, detail=f"html_bytes={len(html)} > extract.max_html_bytes={cfg.max_html_bytes}")
    text_html, codec, source, replaced = decode_html(html, http_charset)
    started = time.monotonic()
    try:
        if cfg.method == "trafilatura":
            text, title = run_with_deadline(lambda: _trafilatura(text_html), cfg.timeout_s)
        else:
            text, title = _resiliparse(text_html, prune=cfg.method == "resiliparse_pruned")
    except DeadlineExceeded:
        return ExtractFailure(reason=ExtractReason.TIMEOUT, detail=f"seconds>{cfg.timeout_s} (extract.timeout_s)")
    elapsed = time.monotonic() - started
    if elapsed > cfg.timeout_s:  # resiliparse cannot be interrupted: still hold it to the limit
        return ExtractFailure(reason=ExtractReason.TIMEOUT, detail=f"seconds={elapsed:.3f} > extract.timeout_s={cfg.timeout_s}")
    text = text.strip()
    if len(text) - text.count(" ") < cfg.min_chars:
        return ExtractFailure(reason=ExtractReason.EMPTY, detail=f"chars={len(text)}")
    return Extracted(text=text, title=title.strip(), chars=len(text), charset=codec, charset_source=source, replaced_chars=replaced)


def extract_batch(items: list[tuple[bytes, str | None]], cfg: ExtractConfig) -> list[Extracted | ExtractFailure]:
    """One result per (html, http_charset), in order. Neither library batches; this is the
    shape a stage calls, so a later batched extractor drops in without touching the wiring."""
    return [extract_html(html, charset, cfg) for html, charset in items]
