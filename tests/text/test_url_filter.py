"""UrlFilter: each rule and its reason, lists read through Beam's FileSystems."""

import subprocess
import sys
import zipfile

import pytest

from pipeline.config import ConfigError
from pipeline.text import url_blocklist
from pipeline.text.urls import UrlFilter, UrlFilterConfig, UrlReason, normalize


@pytest.fixture(scope="module")
def lists(tmp_path_factory):
    d = tmp_path_factory.mktemp("ut1")
    (d / "domains").write_text("# UT1 style\nbad-site.com\nwww.also-bad.org\n")
    (d / "urls").write_text("host.example.net/private/area\n")
    (d / "banned_words.txt").write_text("porn\nxxx\n")
    (d / "soft_banned_words.txt").write_text("babes\nhot\ngirls\n")
    (d / "banned_subwords.txt").write_text("2 girls 1 cup\nsexcam\n")
    return d


@pytest.fixture(scope="module")
def uf(lists):
    return UrlFilter.load(UrlFilterConfig(blocklist_dir=str(lists)))


@pytest.mark.parametrize(
    "url,reason,detail",
    [
        ("https://bad-site.com/a", UrlReason.BLOCKED_DOMAIN, "domain=bad-site.com"),
        ("http://WWW.Bad-Site.com:8080/", UrlReason.BLOCKED_DOMAIN, "domain=bad-site.com"),
        ("https://deep.sub.bad-site.com/x", UrlReason.BLOCKED_DOMAIN, "domain=bad-site.com"),
        ("https://also-bad.org/", UrlReason.BLOCKED_DOMAIN, "domain=also-bad.org"),
        ("https://host.example.net/private/area/page.html", UrlReason.BLOCKED_URL, "url=host.example.net/private/area"),
        ("https://example.com/PORN/videos", UrlReason.BANNED_WORD, "word=porn"),
        ("https://example.com/hot-babes", UrlReason.SOFT_BANNED_WORDS, "words=babes,hot (2 >= url_filter.soft_word_threshold=2)"),
        ("https://example.com/2girls1cup.html", UrlReason.BANNED_SUBWORD, "subword=2girls1cup"),
        ("https://mysexcams.example/", UrlReason.BANNED_SUBWORD, "subword=sexcam"),
    ],
)
def test_each_rule_rejects_with_its_reason(uf, url, reason, detail):
    assert uf.check(url) == (reason, detail)


@pytest.mark.parametrize(
    "url",
    [
        "https://good-site.com/",
        "https://bad-site.com.example.org/",
        "https://host.example.net/private/other",
        "https://example.com/hot-news",
        "https://example.com/essex",
    ],
)
def test_clean_urls_pass(uf, url):
    assert uf.check(url) is None


def test_missing_url_passes_unless_configured(lists):
    assert UrlFilter.load(UrlFilterConfig(blocklist_dir=str(lists))).check(None) is None
    strict = UrlFilter.load(UrlFilterConfig(blocklist_dir=str(lists), reject_missing_url=True))
    assert strict.check(None) == (UrlReason.NO_URL, "url=none")


def test_extra_lists_and_files_without_the_folder(tmp_path):
    extra = tmp_path / "mine.txt"
    extra.write_text("mine.example\n")
    f = UrlFilter.load(
        UrlFilterConfig(blocklist_dir="", domain_lists=[str(extra)], banned_subwords=["evil"], soft_word_threshold=1, soft_banned_words=["casino"])
    )
    assert f.check("https://a.mine.example/")[0] == UrlReason.BLOCKED_DOMAIN
    assert f.check("https://x.org/devilish")[0] == UrlReason.BANNED_SUBWORD
    assert f.check("https://x.org/casino")[0] == UrlReason.SOFT_BANNED_WORDS
    assert f.check_batch(["https://x.org/", None]) == [None, None]


def test_missing_folder_and_bad_config_say_which_key(tmp_path):
    with pytest.raises(ConfigError, match="url_filter.blocklist_dir"):
        UrlFilter.load(UrlFilterConfig(blocklist_dir=str(tmp_path / "nope")))
    with pytest.raises(ConfigError, match="url_filter.soft_word_threshold"):
        UrlFilterConfig(soft_word_threshold=0)
    with pytest.raises(ConfigError, match="url_filter.banned_words"):
        UrlFilterConfig(banned_words=[""])


def test_normalize():
    assert normalize("2 Girls-1 Cup!") == "2girls1cup"


def test_blocklist_fetcher_refuses_a_wheel_with_another_hash(tmp_path):
    fake = tmp_path / url_blocklist.WHEEL_FILE
    with zipfile.ZipFile(fake, "w") as z:
        z.writestr("datatrove/assets/banned_words.txt", "x\n")
    with pytest.raises(SystemExit, match="sha256"):
        url_blocklist.install(str(tmp_path / "out"), wheel_dir=str(tmp_path))
    assert not (tmp_path / "out").exists()


def test_blocklist_fetcher_cli():
    ok = subprocess.run([sys.executable, "-m", "pipeline.text.url_blocklist", "--help"], check=False, capture_output=True, text=True)
    assert ok.returncode == 0 and "--out" in ok.stdout
    bad = subprocess.run([sys.executable, "-m", "pipeline.text.url_blocklist", "--nope"], check=False, capture_output=True, text=True)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1
