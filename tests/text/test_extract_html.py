"""extract_html on the real pages of tests/data/crawl (read through the WARC reader)."""

import io
import json
import re
import time
from pathlib import Path

import pytest

from pipeline.config import ConfigError
from pipeline.io.warc import WarcConfig, WarcDocument, read_warc
from pipeline.text.extract import (
    DeadlineExceeded,
    ExtractConfig,
    Extracted,
    ExtractFailure,
    ExtractReason,
    extract_batch,
    extract_html,
    run_with_deadline,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "crawl"
EXPECT = json.loads((DATA / "expectations.json").read_text(encoding="utf-8"))
PAGES = {p["url"]: p for p in EXPECT["pages"]}


def norm(s: str) -> str:
    return " ".join(s.split())


@pytest.fixture(scope="module")
def docs() -> dict[str, WarcDocument]:
    raw = io.BytesIO((DATA / "crawl.warc.gz").read_bytes())
    return {d.url: d for d in read_warc(raw, "crawl.warc.gz", "crawl.warc.gz", WarcConfig()) if isinstance(d, WarcDocument)}


@pytest.mark.parametrize("method", ["resiliparse_pruned", "trafilatura"])
def test_opening_kept_and_navigation_dropped_on_the_fixture_pages(docs, method):
    """The issue's targets: opening paragraph found in >= 95% of pages, nav/footer in <= 5%."""
    cfg = ExtractConfig(method=method, timeout_s=30)
    pages = [PAGES[u] for u in docs if u in PAGES]
    results = extract_batch([(docs[p["url"]].html, docs[p["url"]].charset) for p in pages], cfg)
    assert all(isinstance(r, Extracted) for r in results)
    opening = sum(norm(p["opening"]) in norm(r.text) for p, r in zip(pages, results)) / len(pages)
    nav = sum(norm(p["nav"]) in norm(r.text) for p, r in zip(pages, results)) / len(pages)
    assert opening >= 0.95, opening
    if method == "resiliparse_pruned":  # trafilatura keeps makeinfo's header on 2 of 23 pages
        assert nav <= 0.05, nav


def test_plain_resiliparse_keeps_docbook_navigation(docs):
    """Why pruning is the default: main_content alone leaves DocBook's navheader/navfooter."""
    debian = [u for u in docs if "debian-reference" in u and u in PAGES]
    texts = [extract_html(docs[u].html, docs[u].charset, ExtractConfig(method="resiliparse")).text for u in debian]
    assert any(norm(PAGES[u]["nav"]) in norm(t) for u, t in zip(debian, texts))


def test_title_and_scores(docs):
    url = EXPECT["pages"][0]["url"]
    r = extract_html(docs[url].html, "utf-8", ExtractConfig())
    assert "Python" in r.title and r.chars == len(r.text)
    assert r.scores("extract.html.v1") == {"extract.html.v1:chars": float(r.chars), "extract.html.v1:replaced_chars": 0.0}


@pytest.mark.parametrize("case,source", [("meta", "meta"), ("header", "http")])
def test_legacy_charsets_decode(docs, case, source):
    url = EXPECT["charset_pages"][case]
    word = PAGES[url.split("?")[0]]["latin1_word"]
    doc = docs[url]
    assert word.encode("utf-8") not in doc.html  # the bytes really are in a legacy charset
    r = extract_html(doc.html, doc.charset, ExtractConfig())
    assert (r.charset, r.charset_source, r.replaced_chars) == ("cp1252", source, 0)
    assert word in r.text


def test_charset_detected_when_undeclared(docs):
    doc = docs[EXPECT["charset_pages"]["meta"]]
    undeclared = re.sub(rb"<meta charset=[^>]*>", b"", doc.html)
    word = PAGES[EXPECT["charset_pages"]["meta"].split("?")[0]]["latin1_word"]
    r = extract_html(undeclared, None, ExtractConfig())
    assert r.charset_source == "detected" and word in r.text


def test_undecodable_bytes_are_replaced_and_counted():
    html = b"<html><body><p>caf\xe9 ol\xe9 and more words here</p></body></html>"
    r = extract_html(html, "utf-8", ExtractConfig())
    assert r.replaced_chars == 2 and "caf\ufffd" in r.text


def test_size_limit():
    r = extract_html(b"<p>" + b"x" * 5000 + b"</p>", None, ExtractConfig(max_html_bytes=1000))
    assert isinstance(r, ExtractFailure) and r.reason == ExtractReason.TOO_LARGE and "html_bytes=5007" in r.detail


def test_empty():
    r = extract_html(b"<html><head><script>var a = 1;</script></head><body>  </body></html>", None, ExtractConfig())
    assert isinstance(r, ExtractFailure) and r.reason == ExtractReason.EMPTY


def test_time_limit_stops_trafilatura_mid_document(docs):
    big = max(docs.values(), key=lambda d: len(d.html))
    started = time.monotonic()
    r = extract_html(big.html, big.charset, ExtractConfig(method="trafilatura", timeout_s=0.001))
    assert time.monotonic() - started < 2.0
    assert isinstance(r, ExtractFailure) and r.reason == ExtractReason.TIMEOUT


def test_deadline_interrupts_a_python_loop_and_restores_tracing():
    def spin():
        def step(i):
            return i + 1

        i = 0
        while True:
            i = step(i)

    started = time.monotonic()
    with pytest.raises(DeadlineExceeded):
        run_with_deadline(spin, 0.05)
    assert time.monotonic() - started < 1.0
    import sys

    assert sys.gettrace() is None or "tracer" not in repr(sys.gettrace())
    assert run_with_deadline(lambda: 42, 1.0) == 42


def test_config_is_validated():
    with pytest.raises(ConfigError, match="extract.method"):
        ExtractConfig(method="boilerpipe")
    with pytest.raises(ConfigError, match="extract.timeout_s"):
        ExtractConfig(timeout_s=0)
