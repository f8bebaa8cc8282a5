"""report.html: written with every run, before stats.json; deterministic; a plot per funnel, score,
mixture and tokenization view with the configured thresholds on it; rejected text escaped; and
rendered by headless Chromium (skipped where no Chromium is installed)."""

import contextlib
import glob
import gzip
import importlib
import io
import json
import os
import re
import shutil
import struct
import subprocess
import tempfile
import zlib

import numpy as np
import pyarrow.parquet as pq
import pytest

from pipeline import run
from pipeline.config import PipelineConfig
from pipeline.report import REPORT_FILE, ReportData, svg, write_report
from pipeline.report import scores as sc
from pipeline.text.quality.config import QUALITY_FAMILIES
from pipeline.text.quality.rules import score_key
from tests.test_registry import undeclared_scores

XSS_ID = "0000-<i>xss</i>"  # sorts before the sample's hex ids: always one of a reason's examples
XSS_TEXT = "</pre><script>alert(1)</script><img src=x onerror=alert(2)> The committee published its report."
ALWAYS = {
    "funnel-documents",
    "funnel-characters",
    "sources",
    "rejections-by-source",
    "rejections-by-language",
    "mixture-shares",
    "mixture-epochs",
    "tokens-per-word",
    "hist:lang_score",
}
NOT_HISTOGRAMMED = {"perplexity.buckets.v1:bucket"}  # the gate's input; its cutoffs are drawn on the perplexity
PERPLEXITY = "perplexity.kenlm.v1:perplexity"  # one histogram per language
SVG = re.compile(r'<svg\b[^>]*\bdata-plot="([^"]*)"[^>]*>(.*?)</svg>', re.S)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Two runs of every 10th sample document, an XSS document and a bad record; their printed output."""
    root = tmp_path_factory.mktemp("report")
    inputs = root / "in"
    inputs.mkdir()
    for path in sorted(glob.glob(run.SAMPLE_GLOB)):
        with gzip.open(path, "rt", encoding="utf-8") as f:
            lines = f.read().splitlines()[::10]
        (inputs / os.path.basename(path).removesuffix(".gz")).write_text("\n".join(lines) + "\n", encoding="utf-8")
    (inputs / "xss.jsonl").write_text(json.dumps({"id": XSS_ID, "text": XSS_TEXT, "source": "web"}) + "\n" + '{"text": "<script>alert(3)</script>\n')
    cfg = root / "small.yaml"
    cfg.write_text("perplexity:\n  min_reference: 10\ntokenizer:\n  vocab_size: 1000\n")
    outs, printed = [], []
    for i in range(2):
        out, buffer = root / f"out{i}", io.StringIO()
        with contextlib.redirect_stdout(buffer):
            assert run.main(["--runner=DirectRunner", "--input", str(inputs), "--output", str(out), "--config", str(cfg)]) == 0
        outs.append(out)
        printed.append(buffer.getvalue())
    return outs, printed


def _page(out) -> str:
    return (out / REPORT_FILE).read_text(encoding="utf-8")


def _svgs(html: str) -> dict[str, str]:
    found = SVG.findall(html)
    assert len(found) == html.count("<svg"), "every <svg> names its plot"
    names = [name for name, _ in found]
    assert len(names) == len(set(names)), f"a plot twice: {sorted(n for n in names if names.count(n) > 1)}"
    return dict(found)


def expected_plots(out) -> set[str]:
    """Worked out from the run's files, not from the report code: a histogram of every score that
    kept documents carry (perplexity per language), and the fixed plots."""
    docs = pq.read_table(out / "documents").to_pylist()
    keys = {k for d in docs for k, _ in d["scores"]}
    plots = ALWAYS | {f"hist:{k}" for k in keys - NOT_HISTOGRAMMED - {PERPLEXITY}}
    return plots | {f"hist:{PERPLEXITY}:{d['lang']}" for d in docs if PERPLEXITY in dict(d["scores"])}


def missing_plots(html: str, expected: set[str]) -> set[str]:
    return expected - set(_svgs(html))


def _threshold_labels(svg_text: str) -> set[str]:
    return set(re.findall(r'class="threshold-label">([^<]*)<', svg_text))


def test_report_is_deterministic_and_written_before_stats(runs):
    (a, b), _ = runs
    assert (a / REPORT_FILE).read_bytes() == (b / REPORT_FILE).read_bytes()
    assert os.stat(a / REPORT_FILE).st_mtime_ns <= os.stat(a / "stats.json").st_mtime_ns  # stats.json stays last
    assert str(a) not in _page(a)  # nothing run-folder specific: another folder gives the same bytes


def test_every_score_the_documents_carry_is_declared(runs):
    (out, _), _ = runs
    assert not undeclared_scores(out)


def test_progress_is_one_line_per_stage_then_the_summary(runs):
    (out, _), (printed, _) = runs
    stages = [s["stage"] for s in json.loads((out / "stats.json").read_text())["funnel"]]
    lines = re.findall(r"^  \[ *[\d.]+s\] +(\d+)/(\d+) (\S+) .* documents", printed, re.M)
    assert sorted(name for _, _, name in lines) == sorted(stages)
    assert {(int(i), int(n)) for i, n, _ in lines} == {(i + 1, len(stages)) for i in range(len(stages))}
    assert printed.index(lines[-1][2]) < printed.index("accounting: read")  # the summary comes last


def test_report_has_every_section_and_plot_with_thresholds(runs):
    (out, _), _ = runs
    html = _page(out)
    for section in ("funnel", "rejections", "scores", "mixture", "tokenization", "examples", "config"):
        assert f'<section id="{section}">' in html
    assert "accounting: read " in html and "(holds)" in html
    assert "  write_documents: true\n" in html  # the config, as YAML

    expected = expected_plots(out)
    assert len(expected) > 40
    assert not missing_plots(html, expected)
    plots = _svgs(html)
    for name in expected:
        assert 'class="bar"' in plots[name], f"{name} draws no bar"

    labels = {name: _threshold_labels(body) for name, body in plots.items()}
    assert labels["hist:lang_score"] == {"threshold 0.5", "thresholds.en 0.65"}
    assert labels["hist:quality.gopher_quality.v1:word_count"] == {"min_words 50", "max_words 100,000"}
    assert labels["hist:quality.gopher_repetition.v1:top_2gram_char_frac"] == {"max_top_ngram_char_frac.2 0.2"}
    assert labels["hist:quality.c4.v1:curly_bracket"] == {"forbid_curly_bracket: 1 is rejected"}
    assert labels["hist:toxicity.score.v1:prob"] == {"classifier_threshold 0.9"}
    assert labels["hist:toxicity.score.v1:matches"] == set()  # toxicity.count_threshold is null: no line
    assert labels["mixture-epochs"] == {"max_epochs 4"}
    cutoffs = json.loads((out / "stats.json").read_text())["facts"]["perplexity_cutoffs"]
    head, middle = cutoffs["en"]["cutoffs"]
    assert labels[f"hist:{PERPLEXITY}:en"] == {f"head | middle {sc.number(head)}", f"middle | tail {sc.number(middle)}"}
    for name, found in labels.items():  # a line for each label
        assert plots[name].count('class="threshold"') == len(found), name


def test_a_missing_plot_fails_the_check(runs):
    (out, _), _ = runs
    html = _page(out)
    name, body = SVG.search(html[html.index('id="scores"') :]).groups()
    without = html.replace(next(m.group(0) for m in SVG.finditer(html) if m.group(1) == name), "")
    assert missing_plots(without, expected_plots(out)) == {name}


def test_rejected_text_is_escaped(runs):
    (out, _), _ = runs
    html = _page(out)
    lower = html.lower()
    assert "<script" not in lower and "<img" not in lower and "<i>xss" not in lower
    assert "&lt;/pre&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;" in html
    assert "0000-&lt;i&gt;xss&lt;/i&gt;" in html  # the id too
    assert "&lt;script&gt;alert(3)&lt;/script&gt;" in html  # and a dead letter's raw excerpt


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")  # Debian: apt-get install chromium


def chromium(*args: str) -> subprocess.CompletedProcess:
    """Headless Chromium, offline: the page loads nothing, and these flags keep Chromium from calling home."""
    with tempfile.TemporaryDirectory(prefix="report-chromium-") as profile:
        flags = [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--hide-scrollbars", f"--user-data-dir={profile}",
        ]  # fmt: skip
        return subprocess.run([CHROMIUM, *flags, *args], capture_output=True, timeout=180, check=False)


def decode_png(data: bytes) -> np.ndarray:
    """(height, width, channels) uint8 from an 8-bit RGB/RGBA PNG, standard library and numpy only."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat = 8, []
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + n]
        pos += 12 + n
        if kind == b"IHDR":
            width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and color in (2, 6) and interlace == 0, (depth, color, interlace)
        elif kind == b"IDAT":
            idat.append(body)
    bpp = 3 if color == 2 else 4
    stride = width * bpp
    raw = np.frombuffer(zlib.decompress(b"".join(idat)), dtype=np.uint8).reshape(height, stride + 1)
    out = np.zeros((height, stride), dtype=np.uint8)
    prior = np.zeros(stride, dtype=np.uint8)
    for y in range(height):
        kind, row = raw[y, 0], raw[y, 1:]
        if kind == 0:
            cur = row.copy()
        elif kind == 1:  # Sub: a running sum per channel
            cur = np.cumsum(row.reshape(width, bpp).astype(np.uint32), axis=0).astype(np.uint8).reshape(stride)
        elif kind == 2:  # Up
            cur = row + prior
        else:  # Average, Paeth: each byte needs its left neighbour's result
            buf, up = bytearray(row.tobytes()), prior.tobytes()
            for x in range(stride):
                a = buf[x - bpp] if x >= bpp else 0
                if kind == 3:
                    buf[x] = (buf[x] + ((a + up[x]) >> 1)) & 255
                else:
                    b, c = up[x], up[x - bpp] if x >= bpp else 0
                    p = a + b - c
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    buf[x] = (buf[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
            cur = np.frombuffer(bytes(buf), dtype=np.uint8)
        out[y] = cur
        prior = cur
    return out.reshape(height, width, bpp)


def _rgb(color: str) -> tuple[int, int, int]:
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium (Debian: apt-get install chromium)")
def test_chromium_renders_every_plot(runs, tmp_path):
    (out, _), _ = runs
    url = (out / REPORT_FILE).as_uri()
    dom = chromium("--dump-dom", url)
    rendered = dom.stdout.decode("utf-8")
    assert dom.returncode == 0 and rendered, dom.stderr.decode(errors="replace")[-2000:]
    assert not missing_plots(rendered, expected_plots(out)), "a plot is missing from the rendered DOM"
    assert "<script" not in rendered.lower()

    png = tmp_path / "report.png"
    shot = chromium(f"--screenshot={png}", "--window-size=1280,4000", url)
    assert png.exists(), shot.stderr.decode(errors="replace")[-2000:]
    if os.environ.get("REPORT_SCREENSHOT"):  # keep a copy to look at (CI artifact)
        with open(os.environ["REPORT_SCREENSHOT"], "wb") as f:
            f.write(png.read_bytes())
    pixels = decode_png(png.read_bytes())[:, :, :3]
    assert pixels.shape[:2] == (4000, 1280)
    colours, counts = np.unique(pixels.reshape(-1, 3), axis=0, return_counts=True)
    assert len(colours) > 50, "the screenshot is (nearly) one colour"
    painted = {tuple(int(v) for v in c): int(n) for c, n in zip(colours, counts)}
    # Bars are drawn: the funnel's kept and rejected colours fill thousands of pixels.
    assert painted.get(_rgb(svg.KEPT), 0) > 20_000
    assert painted.get(_rgb(svg.REMOVED), 0) > 2_000
    # Histogram bars have a colour of their own: the first grids of them are on screen.
    assert painted.get(_rgb(svg.BAR), 0) > 5_000, "no histogram drawn in the first 4000 pixels"


# Units: the score table against the quality rules, bins, the failure path.


def _family_rules(family: str):
    """A quality family's text module and its rules (gopher_repetition's depend on its n-gram settings)."""
    module = importlib.import_module(f"pipeline.text.quality.{family}")
    return module, module.rules(getattr(PipelineConfig().quality, family)) if hasattr(module, "rules") else module.RULES


@pytest.mark.parametrize("family", QUALITY_FAMILIES)
def test_every_quality_rule_has_a_histogram_with_its_threshold(family):
    module, rules = _family_rules(family)
    root = {"config": PipelineConfig().to_dict(), "facts": {}}
    for rule in rules:
        found = sc.spec_for(score_key(module.STAGE_ID, rule.signal))
        assert found is not None, f"{rule.signal} has no ScoreSpec in pipeline/stages/registry.py"
        spec, fields = found
        labels = [label for _, label in sc.thresholds(spec, fields, sc.ALL, root)]
        assert any(label.startswith(rule.setting) for label in labels), (rule.setting, labels)


def test_bins_clamp_and_scale():
    assert [sc.FRACTION.index(v) for v in (-1.0, 0.0, 0.019, 0.02, 0.999, 1.0, 7.0)] == [0, 0, 0, 1, 49, 49, 49]
    assert sc.FRACTION.index(float("nan")) is None and sc.FRACTION.index(float("inf")) == 49
    decades = sc.log(1.0, 1e6, 6)
    assert [decades.index(v) for v in (0.0, 0.5, 1.0, 9.99, 10.0, 999_999.0, 1e9)] == [0, 0, 0, 0, 1, 5, 5]
    counts = sc.integers(0, 30)
    assert counts.n == 31 and [counts.index(v) for v in (0.0, 2.0, 2.4, 30.0, 400.0)] == [0, 2, 2, 30, 30]


def _awkward_values(rng: np.random.Generator, bins) -> np.ndarray:
    """Random values over and past a bin range, every bin edge, and the special floats."""
    edges = [bins.lo + (bins.hi - bins.lo) * i / bins.n for i in range(bins.n + 1)]
    if bins.scale == "log":
        edges = [bins.lo * (bins.hi / bins.lo) ** (i / bins.n) for i in range(bins.n + 1)]
    spread = rng.uniform(bins.lo - (bins.hi - bins.lo), bins.hi * 2, 500)
    special = [float("nan"), float("inf"), -float("inf"), 0.0, -0.0, 1e300, -1e300, 5e-324]
    return np.array([*spread, *edges, *np.nextafter(edges, np.inf), *np.nextafter(edges, -np.inf), *special], dtype=np.float64)


@pytest.mark.parametrize("bins", [sc.FRACTION, sc.FLAG, sc.COUNT_LOG, sc.integers(0, 20), sc.linear(-2.5, 3.0, 7), sc.log(1.0, 1e5, 50)])
def test_bins_indices_equal_index_value_by_value(bins):
    values = _awkward_values(np.random.default_rng(7), bins)
    expected = [-1 if (i := bins.index(float(v))) is None else i for v in values]
    assert bins.indices(values).tolist() == expected


def test_count_bins_equals_the_sum_of_binned():
    """The chain's batch binning gives the counts of binning document by document, for every
    score kind: per language, per source, log bins, a missing score, NaN and inf."""
    from pipeline.records import Document
    from pipeline.stages import registry

    rng = np.random.default_rng(3)
    drawn = [s for s in sc.SCORES if s.bins is not None and "{n}" not in s.key and s.key != sc.LANG_SCORE]
    docs = []
    for i in range(300):
        scores = {}
        for spec in drawn:
            if rng.random() < 0.8:  # some documents lack some scores
                scores[spec.key] = float(rng.choice(_awkward_values(rng, spec.bins)))
        scores[score_key("quality.gopher_repetition.v1", "dup_3gram_char_frac")] = float(rng.random())  # an n-gram key
        docs.append(
            Document(
                id=str(i),
                text="x",
                source=str(rng.choice(["web", "wiki", "code"])),
                lang=[None, "en", "fr"][i % 3],
                lang_score=None if i % 5 == 0 else float(rng.random()),
                scores=scores,
            )
        )
    steps = {s.step for s in sc.SCORES} | {registry.IDENTIFY_STAGE}
    assert len(steps) > 5
    for step in sorted(steps):
        expected: dict = {}
        for doc in docs:
            for key, n in sc.binned(doc, step):
                expected[key] = expected.get(key, 0) + n
        assert sc.count_bins(docs, step) == expected, step
    assert sc.count_bins(docs, registry.IDENTIFY_STAGE)  # language scores were counted


def test_a_report_that_cannot_render_still_leaves_a_page(tmp_path, caplog):
    write_report(str(tmp_path), {"run": {}}, ReportData([], [], []))  # no accounting: render fails
    page = (tmp_path / REPORT_FILE).read_text()
    assert "The report failed" in page and "KeyError" in page
    assert "report.html could not be rendered" in caplog.text


@pytest.mark.parametrize("read", [0, 3])
def test_render_without_tokens_scores_or_documents(read):
    """A run with output.write_tokens false (no mixture, no tokens), nothing scored, or nothing read
    still gets every section, not the failure page."""
    from pipeline.config import OutputConfig
    from pipeline.report import render
    from pipeline.stats import build_stats

    config = PipelineConfig(output=OutputConfig(write_tokens=False)).to_dict()
    counts = [(("read", "web"), read), (("rejected", "language.filter.v1", "language_not_kept", "web", "sv"), read)] if read else []
    stats = build_stats(counts, ["language.filter.v1"], {}, {"inputs": ["x"], "config": config})
    stats["facts"] = {}
    examples = [(("language.filter.v1", "language_not_kept"), [("a", "web", "sv", "lang=sv score=0.9", "<b>text</b>", 11)])] if read else []
    html = render(stats, ReportData([], examples, [("language.filter.v1", read, 10 * read, 0, 0)]))
    for section in ("funnel", "rejections", "scores", "mixture", "tokenization", "examples", "config"):
        assert f'<section id="{section}">' in html
    assert "No mixture: output.write_tokens is false." in html and "<b>text" not in html
    assert {"funnel-documents", "funnel-characters"} <= set(_svgs(html))
