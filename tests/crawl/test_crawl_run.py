"""A crawl through the whole pipeline: `--input 'crawl/*.warc.gz'` with no other flag."""

import json
import os
import shutil

import pyarrow.parquet as pq
import pytest

from pipeline import run
from tests.test_registry import undeclared_scores

FIXTURES = os.path.join(os.path.dirname(os.path.dirname(__file__)), "data", "crawl")


@pytest.fixture(scope="module")
def crawl_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("crawlrun")
    crawl = root / "crawl"
    crawl.mkdir()
    for name in ("crawl.warc.gz", "crawl.warc.wet.gz"):
        shutil.copy(os.path.join(FIXTURES, name), crawl / name)
    out = root / "out"
    # split_bytes below the .warc.gz's size: the file is read in parts, at gzip-member boundaries
    (root / "c.yaml").write_text("read:\n  split_bytes: 50000\n")
    assert run.main(["--runner=DirectRunner", "--input", f"{crawl}/*.warc.gz", "--output", str(out), "--config", str(root / "c.yaml")]) == 0
    return out


def _expectations() -> list[dict]:
    with open(os.path.join(FIXTURES, "expectations.json"), encoding="utf-8") as f:
        return json.load(f)["pages"]


def test_every_record_is_accounted_for_broken_ones_included(crawl_run):
    stats = json.loads((crawl_run / "stats.json").read_text())
    acc = stats["accounting"]
    assert acc["holds"]
    assert stats["dead_letters"] == {"warc_truncated": 1}  # the cut-off last record of the .warc.gz
    read = stats["rejections"]["read.warc.v1"]
    assert read["warc_status_not_200"] == 3 and read["warc_not_html"] == 1 and read["warc_empty_body"] == 1  # 301, 302, 404; the PNG
    assert stats["funnel"][0]["stage"] == "read.warc.v1" and stats["funnel"][1]["stage"] == "extract.html.v1"
    # every page read is in the top-domains table, with its fate
    sites = stats["domains"]
    assert sum(v["read"] for v in sites.values()) == acc["documents_read"]
    assert sum(v["kept"] for v in sites.values()) == acc["kept"]


def test_every_score_the_pages_carry_is_declared(crawl_run):
    assert not undeclared_scores(crawl_run)  # extraction and redaction counts


def test_pages_keep_their_main_content_and_lose_navigation(crawl_run):
    """Each page's text after extraction, wherever it ended (kept, or rejected by a later stage
    with its text), holds the opening sentence of its main content and not its footer."""
    rows = pq.read_table(crawl_run / "documents").to_pylist() + pq.read_table(crawl_run / "rejections").to_pylist()
    text_by_url = {r["url"]: r["text"] for r in rows if r.get("stage", "") != "read.warc.v1"}
    pages = [p for p in _expectations() if p["url"] in text_by_url]
    assert len(pages) >= 20
    found = sum(" ".join(p["opening"].split()) in " ".join(text_by_url[p["url"]].split()) for p in pages)
    leaked = sum(p["nav"] in text_by_url[p["url"]] for p in pages)
    assert found >= 0.9 * len(pages), (found, len(pages))
    assert leaked <= 0.05 * len(pages), leaked


def test_pages_carry_their_url_domain_date_and_title(crawl_run):
    docs = pq.read_table(crawl_run / "documents").to_pylist()
    assert docs
    for d in docs:
        meta = dict(d["metadata"])
        assert d["url"].startswith("https://") and meta["domain"] and meta["warc_date"] and meta["title"] and "@" in meta["location"]
        assert dict(d["scores"])["extract.html.v1:chars"] > 0
        assert d["record_id"] == d["id"]  # the WARC-Record-ID
    html = (crawl_run / "report.html").read_text()
    assert 'id="sites"' in html and "docs.example.org" in html and "characters extracted from the HTML" in html
    rejected = pq.read_table(crawl_run / "rejections").to_pylist()
    assert all(r["url"] for r in rejected if r["stage"] == "read.warc.v1")  # a refused page can be traced
