"""Build small WARC / WET test files from real HTML pages found offline in Debian packages.

Run:  python -m pipeline.sample.warc_corpus --out tests/data/crawl [--scratch /tmp/cf-warc] [--pages N]

Pages (navigation, sidebars, footers, scripts included) come from the HTML manuals of
python3.11-doc (Sphinx), diffutils-doc (makeinfo) and debian-reference-en (DocBook XSL),
fetched with `apt-get download` and unpacked in pure Python. Written, in --out:

- crawl.warc.gz   every page as a 200 response (request and warcinfo records around them), a
                  page re-encoded to windows-1252 declared only in its <meta charset>, one in
                  iso-8859-1 declared only in the HTTP header, a PNG, 301 and 302 redirects, a 404,
                  an empty 200 body, a metadata record, and a truncated record at the end;
- crawl.warc       the same kinds of record, fewer pages, uncompressed;
- crawl.warc.wet.gz conversion records (the pages' tag-stripped text) and an empty one;
- expectations.json per page: a sentence from the main content's opening paragraph and a string
                  of the navigation/footer that a main-content extractor must drop (both found in
                  the DOM by fixed per-manual rules, never by an extractor), plus, per file, the
                  outcome of every counted record in order (document / rejection / dead letter);
- SOURCES.md      where every page came from (package, version, licence).

Everything is deterministic (record ids from the url, fixed dates, gzip mtime 0): two builds
from the same package versions are byte-identical. --pages N > the fixture default builds a
larger file for the benchmarks (bench/bench_warc.py).
"""

import hashlib
import io
import json
import os
import re
import sys
import uuid
import zlib
from pathlib import Path

import lxml.html

from pipeline.cli_args import OneLineParser
from pipeline.sample.fetch import run, unpack_deb

PACKAGES = {
    "python3.11-doc": ("usr/share/doc/python3.11/html", "PSF-2.0 (Python documentation licence)"),
    "diffutils-doc": ("usr/share/doc/diffutils", "GFDL-1.3+ (GNU Free Documentation License)"),
    "debian-reference-en": ("usr/share/debian-reference", "GPL-2+ (Osamu Aoki)"),
}
# Per manual: XPath of the main content, XPath of navigation/footer blocks.
RULES = {
    "python3.11-doc": ("//div[@role='main']", "//div[@class='footer'] | //div[@class='related']"),
    "diffutils-doc": ("//body", "//div[@class='header']"),
    "debian-reference-en": (
        "//div[@class='appendix' or @class='chapter' or @class='preface']",
        "//div[@class='navfooter'] | //div[@class='navheader']",
    ),
}
# Pages whose main text has Latin-1 letters: re-encoded for the two legacy-charset cases.
LEGACY_PAGES = ("whatsnew/3.1.html", "library/email.examples.html")
DATE = "2024-05-01T12:00:00Z"
FIXTURE_PAGES = 24


def norm(text: str) -> str:
    return " ".join(text.split())


def record_id(key: str) -> str:
    return f"<urn:uuid:{uuid.UUID(bytes=hashlib.sha1(key.encode()).digest()[:16], version=4)}>"


def fetch_roots(scratch: str) -> tuple[dict, dict]:
    debdir = os.path.join(scratch, "debs")
    os.makedirs(debdir, exist_ok=True)
    have = {f.split("_")[0]: f for f in os.listdir(debdir) if f.endswith(".deb")}
    missing = [p for p in PACKAGES if p not in have]
    if missing:
        try:
            run(["apt-get", "download", *missing], debdir)
        except Exception:  # noqa: BLE001 - a fresh machine has empty package lists
            run(["apt-get", "update"], debdir)
            run(["apt-get", "download", *missing], debdir)
        have = {f.split("_")[0]: f for f in os.listdir(debdir) if f.endswith(".deb")}
    roots, versions = {}, {}
    for pkg in PACKAGES:
        roots[pkg] = unpack_deb(os.path.join(debdir, have[pkg]), os.path.join(scratch, "root", pkg))
        versions[pkg] = have[pkg][:-4].split("_")[1].replace("%3a", ":")
    return roots, versions


def expectation(html: bytes, pkg: str) -> dict | None:
    """The page's opening sentence and a nav/footer string, by the manual's DOM rules."""
    tree = lxml.html.fromstring(html)
    main_xpath, nav_xpath = RULES[pkg]
    mains = tree.xpath(main_xpath)
    navs = tree.xpath(nav_xpath)
    if not mains or not navs:
        return None
    main = mains[0]
    # Footers first (they are what extractors most often leave in), then breadcrumbs/headers.
    navs.sort(key=lambda n: 0 if "foot" in (n.get("class") or "") else 1)
    nav_texts = ["".join(n.itertext()) for n in navs]
    for n in navs:  # the main text, without the nav blocks nested in it (makeinfo's headers)
        if n.getparent() is not None and main in n.iterancestors():
            n.getparent().remove(n)
    main_text = norm(" ".join(main.itertext()))
    opening = None
    for p in main.iter("p"):
        words = norm("".join(p.itertext())).split()
        if len(words) >= 8:
            sentence = " ".join(words)
            sentence = re.split(r"(?<=[.:;!?])\s", sentence)[0]
            opening = " ".join(sentence.split()[:12])
            break
    nav = None
    for text in nav_texts:
        segments = [norm(s) for line in text.splitlines() for s in re.split(r"[|»\[\]]", line)]
        for seg in segments:
            words = seg.split()
            if len(words) >= 3 and " ".join(words[:8]) not in main_text:
                nav = " ".join(words[:8])
                break
        if nav:
            break
    if not opening or not nav or len(opening.split()) < 6:
        return None
    latin1 = sorted({re.sub(r"\W", "", w) for w in main_text.split() if re.search(r"[\u00c0-\u00ff]", w)})
    return {"opening": opening, "nav": nav, "latin1_word": latin1[0] if latin1 else None}


def choose_pages(roots: dict, versions: dict, n: int) -> list[dict]:
    """Deterministic page choice: per manual, HTML files by size-bounded sorted path."""
    shares = {"python3.11-doc": 0.6, "diffutils-doc": 0.25, "debian-reference-en": 0.15}
    pages = []
    for pkg, (sub, licence) in PACKAGES.items():
        base = os.path.join(roots[pkg], sub)
        files = sorted(os.path.relpath(os.path.join(d, f), base) for d, _, fs in os.walk(base) for f in fs if f.endswith(".html"))
        want = max(1, round(n * shares[pkg]))
        # Spread the choice over the manual (sorted paths, fixed stride), skipping huge pages.
        stride = max(1, len(files) // (want * 3))
        for rel in files[::stride]:
            if len([p for p in pages if p["package"] == pkg]) >= want:
                break
            data = Path(os.path.join(base, rel)).read_bytes()
            if not 2_000 <= len(data) <= (80_000 if n <= FIXTURE_PAGES else 400_000):
                continue
            exp = expectation(data, pkg)
            if exp is None:
                continue
            url = f"https://docs.example.org/{pkg}/{rel}"
            pages.append({"url": url, "package": pkg, "version": versions[pkg], "licence": licence, "path": rel, "html": data, **exp})
    return pages


# ---------------------------------------------------------------- records


class WarcOut:
    """Writes records by hand (WARC/1.1): deterministic bytes, and we control every header."""

    def __init__(self, gz: bool):
        self.gz = gz
        self.buf = io.BytesIO()
        self.outcomes: list[dict] = []

    def _block(self, rtype: str, url: str | None, block: bytes, key: str, extra: dict | None = None) -> bytes:
        headers = {"WARC-Type": rtype, "WARC-Record-ID": record_id(key), "WARC-Date": DATE}
        if url:
            headers["WARC-Target-URI"] = url
        headers.update(extra or {})
        headers["Content-Length"] = str(len(block))
        head = "WARC/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        return head.encode() + block + b"\r\n\r\n"

    def write(self, rtype, url, block, key, extra=None, outcome=None, cut: int = 0):
        data = self._block(rtype, url, block, key, extra)
        if self.gz:
            c = zlib.compressobj(9, zlib.DEFLATED, 31)
            data = c.compress(data) + c.flush()
            data = data[:4] + b"\0\0\0\0" + data[8:]  # gzip mtime 0 (zlib already writes 0; be explicit)
        if cut:
            data = data[:-cut]
        offset = self.buf.tell()
        self.buf.write(data)
        if outcome:
            self.outcomes.append({"offset": offset, "id": record_id(key)[10:-1], "url": url, **outcome})

    def response(self, url, status, ctype, body, outcome, extra_http=""):
        reason = {200: "OK", 301: "Moved Permanently", 302: "Found", 404: "Not Found"}[status]
        http = f"HTTP/1.1 {status} {reason}\r\n"
        if ctype:
            http += f"Content-Type: {ctype}\r\n"
        http += extra_http + f"Content-Length: {len(body)}\r\n\r\n"
        self.write(
            "request",
            url,
            f"GET {url} HTTP/1.1\r\nHost: docs.example.org\r\n\r\n".encode(),
            "req " + url,
            {"Content-Type": "application/http; msgtype=request"},
        )
        self.write("response", url, http.encode() + body, "resp " + url, {"Content-Type": "application/http; msgtype=response"}, outcome)


def legacy(page: dict, codec: str, where: str) -> bytes:
    html = page["html"].decode("utf-8")
    html = re.sub(r"<meta[^>]*charset[^>]*>", "", html, flags=re.IGNORECASE)
    if where == "meta":
        html = html.replace("<head>", f'<head>\n<meta charset="{codec}">', 1)
    return html.encode(codec, errors="xmlcharrefreplace")


def write_warc(pages: list[dict], legacy_pages: list[dict], gz: bool, png: bytes) -> WarcOut:
    out = WarcOut(gz)
    out.write("warcinfo", None, b"software: corpusforge warc_corpus\r\n", "warcinfo", {"Content-Type": "application/warc-fields"})
    for p in pages:
        out.response(p["url"], 200, "text/html; charset=utf-8", p["html"], {"kind": "document"})
    meta_page, header_page = legacy_pages
    out.response(
        meta_page["url"] + "?cp1252", 200, "text/html", legacy(meta_page, "windows-1252", "meta"), {"kind": "document", "charset_case": "meta"}
    )
    out.response(
        header_page["url"] + "?latin1",
        200,
        "text/html; charset=iso-8859-1",
        legacy(header_page, "iso-8859-1", "header"),
        {"kind": "document", "charset_case": "header"},
    )
    out.response(
        "https://docs.example.org/logo.png",
        200,
        "image/png",
        png,
        {"kind": "rejection", "reason": "warc_not_html", "detail": "content_type=image/png"},
    )
    for status in (301, 302):
        out.response(
            f"https://docs.example.org/moved{status}",
            status,
            "text/html",
            b"<a href='/new'>moved</a>",
            {"kind": "rejection", "reason": "warc_status_not_200", "detail": f"status={status}"},
            "Location: https://docs.example.org/new\r\n",
        )
    out.response(
        "https://docs.example.org/missing",
        404,
        "text/html",
        b"<h1>Not Found</h1>",
        {"kind": "rejection", "reason": "warc_status_not_200", "detail": "status=404"},
    )
    out.response(
        "https://docs.example.org/empty", 200, "text/html", b"", {"kind": "rejection", "reason": "warc_empty_body", "detail": "body_bytes=0"}
    )
    out.write("metadata", pages[0]["url"], b"fetchTimeMs: 12\r\n", "meta", {"Content-Type": "application/warc-fields"})
    last = pages[0]
    out.write(
        "response",
        last["url"] + "?truncated",
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n" + last["html"],
        "trunc",
        {"Content-Type": "application/http; msgtype=response"},
        {"kind": "dead", "reason": "warc_truncated"},
        cut=300,
    )
    return out


def write_wet(pages: list[dict]) -> WarcOut:
    out = WarcOut(gz=True)
    out.write("warcinfo", None, b"software: corpusforge warc_corpus\r\n", "wet-warcinfo", {"Content-Type": "application/warc-fields"})
    for p in pages:
        tree = lxml.html.fromstring(p["html"])
        for bad in tree.xpath("//script | //style"):
            bad.getparent().remove(bad)
        text = "\n".join(line.strip() for line in tree.text_content().splitlines() if line.strip())
        out.write("conversion", p["url"], text.encode("utf-8"), "wet " + p["url"], {"Content-Type": "text/plain"}, {"kind": "document"})
    out.write(
        "conversion",
        "https://docs.example.org/empty",
        b"",
        "wet empty",
        {"Content-Type": "text/plain"},
        {"kind": "rejection", "reason": "warc_empty_body", "detail": "conversion_bytes=0"},
    )
    return out


def build(out_dir: str, scratch: str, n_pages: int) -> dict:
    roots, versions = fetch_roots(scratch)
    pages = choose_pages(roots, versions, n_pages)
    legacy_pages = []
    base = os.path.join(roots["python3.11-doc"], PACKAGES["python3.11-doc"][0])
    for rel in LEGACY_PAGES:
        data = Path(os.path.join(base, rel)).read_bytes()
        exp = expectation(data, "python3.11-doc")
        if exp is None or not exp["latin1_word"]:
            raise SystemExit(f"warc_corpus: {rel} has no opening/nav/Latin-1 word; pick another legacy page")
        page = {
            "url": f"https://docs.example.org/python3.11-doc/{rel}",
            "package": "python3.11-doc",
            "version": versions["python3.11-doc"],
            "licence": PACKAGES["python3.11-doc"][1],
            "path": rel,
            "html": data,
            **exp,
        }
        legacy_pages.append(page)
        if all(p["path"] != rel for p in pages):
            pages.append(page)
    png = Path(os.path.join(roots["python3.11-doc"], PACKAGES["python3.11-doc"][0], "_static/file.png")).read_bytes()
    os.makedirs(out_dir, exist_ok=True)
    files = {
        "crawl.warc.gz": write_warc(pages, legacy_pages, True, png),
        "crawl.warc": write_warc(pages[:3], legacy_pages, False, png),
        "crawl.warc.wet.gz": write_wet(pages),
    }
    for name, w in files.items():
        with open(os.path.join(out_dir, name), "wb") as f:
            f.write(w.buf.getvalue())
    expect = {
        "pages": [{k: p[k] for k in ("url", "package", "path", "opening", "nav", "latin1_word")} for p in pages],
        "charset_pages": {"meta": legacy_pages[0]["url"] + "?cp1252", "header": legacy_pages[1]["url"] + "?latin1"},
        "records": {name: w.outcomes for name, w in files.items()},
    }
    with open(os.path.join(out_dir, "expectations.json"), "w") as f:
        json.dump(expect, f, indent=1, ensure_ascii=False, sort_keys=True)
        f.write("\n")
    write_sources(out_dir, pages, versions)
    return expect


def write_sources(out_dir: str, pages: list[dict], versions: dict) -> None:
    lines = [
        "# Sources of the WARC test fixtures",
        "",
        "Built by `python -m pipeline.sample.warc_corpus --out tests/data/crawl` from Debian bookworm packages.",
        "URLs under https://docs.example.org/ are invented; the page bytes are the packages' files",
        "(two re-encoded to windows-1252 / iso-8859-1). `file.png` is Sphinx's icon from python3.11-doc.",
        "",
        "| package | version | licence | pages |",
        "|---|---|---|---|",
    ]
    for pkg, (_, licence) in PACKAGES.items():
        n = sum(p["package"] == pkg for p in pages)
        lines.append(f"| {pkg} | {versions[pkg]} | {licence} | {n} |")
    lines += ["", "Pages:", ""] + [f"- {p['package']}: {PACKAGES[p['package']][0]}/{p['path']}" for p in pages]
    with open(os.path.join(out_dir, "SOURCES.md"), "w") as f:
        f.write("\n".join(lines) + "\n")


def main(argv=None) -> int:
    ap = OneLineParser(prog="python -m pipeline.sample.warc_corpus", description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="folder for the WARC files, expectations.json and SOURCES.md")
    ap.add_argument("--scratch", default="/tmp/corpusforge-warc-build", help="where .deb files are downloaded and unpacked")
    ap.add_argument("--pages", type=int, default=FIXTURE_PAGES, help=f"HTML pages to take (default {FIXTURE_PAGES}: the test fixtures)")
    args = ap.parse_args(argv)
    if args.pages < 4:
        ap.exit(2, "warc_corpus: --pages must be >= 4\n")
    expect = build(args.out, args.scratch, args.pages)
    print(f"{len(expect['pages'])} pages -> {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
