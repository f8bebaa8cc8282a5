"""URL filter, as FineWeb runs datatrove's URLFilter (our own code). No Beam here.

In order, first failing rule wins (each its own reason, the detail names the list or word):
1. the host or one of its parent domains is on a domain blocklist (UT1 adult `domains`);
2. the URL without scheme (or one of its path prefixes at "/" boundaries, squidGuard's rule)
   is on a URL blocklist (UT1 adult `urls`);
3. a hard-banned word is one of the URL's words (split on non-alphanumerics, lowercased);
4. at least `soft_word_threshold` distinct soft-banned words are URL words (FineWeb: 2);
5. a banned sub-word occurs anywhere in the normalised URL (alphanumerics only, lowercased;
   "2 girls 1 cup" -> "2girls1cup"), found by one Aho-Corasick pass (pyahocorasick).

Where we differ from datatrove 0.10.1, on purpose: the parent-domain walk replaces tldextract
(same effect for registered domain and full host, no public-suffix download); the URL list is
matched without the scheme (UT1 entries have none, so datatrove's full-URL match never hits);
URL words are lowercased before the word lists are consulted (datatrove lowercases the lists
but not the URL, so "PORN" passed).

Lists are files read through Beam's FileSystems (local, gs://, ...): one entry per line, "#"
comments. `python -m pipeline.text.url_blocklist` writes the UT1 and FineWeb lists to
~/.cache/corpusforge/ut1, the default `blocklist_dir`. The UT1 domain list has 4.5 M entries:
~0.5 GB as a Python set, loaded once per worker (the stage's setup), never per element.
"""

import os
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import ahocorasick

from pipeline.records import Reason
from pipeline.settings import ConfigError, check

DEFAULT_BLOCKLIST_DIR = "~/.cache/corpusforge/ut1"  # what `python -m pipeline.text.url_blocklist` writes


@dataclass(frozen=True, kw_only=True)
class UrlFilterConfig:
    """URL blocklists and banned words (datatrove's URLFilter, FineWeb), on documents with an http(s) URL."""

    enabled: bool = True
    apply: list[str] = field(default_factory=lambda: ["web"])  # sources it gates
    # Folder of UT1's domains/urls and FineWeb's word lists (`python -m pipeline.text.url_blocklist`);
    # "": only the lists below. The default folder, when absent, is a start-up warning, not an error.
    blocklist_dir: str = DEFAULT_BLOCKLIST_DIR
    domain_lists: list[str] = field(default_factory=list)  # extra files, any Beam filesystem
    url_lists: list[str] = field(default_factory=list)
    extra_domains: list[str] = field(default_factory=list)
    extra_urls: list[str] = field(default_factory=list)
    banned_words: list[str] = field(default_factory=list)  # added to the folder's lists
    soft_banned_words: list[str] = field(default_factory=list)
    banned_subwords: list[str] = field(default_factory=list)
    soft_word_threshold: int = 2  # FineWeb / datatrove default
    reject_missing_url: bool = False  # a document without an http(s) URL passes unless this is set

    def __post_init__(self):
        check(self.soft_word_threshold >= 1, "url_filter.soft_word_threshold", f"must be >= 1, got {self.soft_word_threshold}")
        for key in ("domain_lists", "url_lists", "extra_domains", "extra_urls", "banned_words", "soft_banned_words", "banned_subwords"):
            check(all(v.strip() for v in getattr(self, key)), f"url_filter.{key}", "must be a list of non-empty strings")


URL_STAGE = "extract.url_filter.v1"
_NON_ALNUM = re.compile(r"[^a-zA-Z0-9]+")


class UrlReason(Reason):
    BLOCKED_DOMAIN = "url_blocked_domain"
    BLOCKED_URL = "url_blocked_url"
    BANNED_WORD = "url_banned_word"
    SOFT_BANNED_WORDS = "url_soft_banned_words"
    BANNED_SUBWORD = "url_banned_subword"
    NO_URL = "url_missing"


def normalize(text: str) -> str:
    return _NON_ALNUM.sub("", text).lower()


def read_list(path: str) -> list[str]:
    """Entries of a list file on any Beam filesystem: stripped lines, no blanks or # comments."""
    from apache_beam.io.filesystems import FileSystems  # the one Beam import: filesystems only

    with FileSystems.open(path) as f:
        data = f.read().decode("utf-8", errors="replace")
    return [line.strip() for line in data.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def _host_and_path(url: str) -> tuple[str, str]:
    """("a.example.com", "a.example.com/path?q") lowercased host, no port, no "www.", no scheme."""
    try:
        parts = urlsplit(url if "://" in url else "http://" + url)
        host = (parts.hostname or "").rstrip(".")
    except ValueError:
        return "", ""
    host = host.removeprefix("www.")
    rest = url.split("://", 1)[-1]
    rest = rest[rest.find("/") :] if "/" in rest else ""
    return host, host + rest


class UrlFilter:
    """check(url) -> (reason, detail) or None. Build with `load(cfg)` (reads every list)."""

    def __init__(self, *, domains: set[str], urls: set[str], banned: set[str], soft: set[str], subwords: set[str], cfg: UrlFilterConfig):
        self.domains = domains
        self.urls = urls
        self.banned = banned
        self.soft = soft
        self.cfg = cfg
        self._subwords = None
        if subwords:
            self._subwords = ahocorasick.Automaton()
            for word in sorted(subwords):
                self._subwords.add_word(word, word)
            self._subwords.make_automaton()

    @classmethod
    def load(cls, cfg: UrlFilterConfig) -> "UrlFilter":
        def folder(name: str) -> list[str]:
            if not cfg.blocklist_dir:
                return []
            path = os.path.join(os.path.expanduser(cfg.blocklist_dir), name)
            if not os.path.exists(path) and "://" not in path:
                raise ConfigError(f"url_filter.blocklist_dir: no {name} in {cfg.blocklist_dir}; run python -m pipeline.text.url_blocklist")
            return read_list(path)

        domains = {d.lower().removeprefix("www.") for d in [*folder("domains"), *cfg.extra_domains]}
        urls = {u.lower().split("://", 1)[-1].removeprefix("www.").rstrip("/") for u in [*folder("urls"), *cfg.extra_urls]}
        for path in cfg.domain_lists:
            domains.update(d.lower().removeprefix("www.") for d in read_list(path))
        for path in cfg.url_lists:
            urls.update(u.lower().split("://", 1)[-1].removeprefix("www.").rstrip("/") for u in read_list(path))
        banned = {normalize(w) for w in [*folder("banned_words.txt"), *cfg.banned_words]} - {""}
        soft = {normalize(w) for w in [*folder("soft_banned_words.txt"), *cfg.soft_banned_words]} - {""}
        subwords = {normalize(w) for w in [*folder("banned_subwords.txt"), *cfg.banned_subwords]} - {""}
        return cls(domains=domains, urls=urls, banned=banned, soft=soft, subwords=subwords, cfg=cfg)

    def check(self, url: str | None) -> tuple[UrlReason, str] | None:
        if not url:
            return (UrlReason.NO_URL, "url=none") if self.cfg.reject_missing_url else None
        host, no_scheme = _host_and_path(url)
        labels = host.split(".")
        for i in range(len(labels) - 1):  # the host and each parent, never the bare TLD
            candidate = ".".join(labels[i:])
            if candidate in self.domains:
                return UrlReason.BLOCKED_DOMAIN, f"domain={candidate}"
        path = no_scheme.lower().rstrip("/")
        while path:
            if path in self.urls:
                return UrlReason.BLOCKED_URL, f"url={path}"
            cut = path.rfind("/")
            if cut <= len(host):
                break
            path = path[:cut]
        words = {w for w in _NON_ALNUM.split(url.lower()) if w}
        hard = sorted(words & self.banned)
        if hard:
            return UrlReason.BANNED_WORD, f"word={hard[0]}"
        soft = sorted(words & self.soft)
        if len(soft) >= self.cfg.soft_word_threshold:
            return (
                UrlReason.SOFT_BANNED_WORDS,
                f"words={','.join(soft)} ({len(soft)} >= url_filter.soft_word_threshold={self.cfg.soft_word_threshold})",
            )
        if self._subwords is not None:
            for _, word in self._subwords.iter(normalize(url)):
                return UrlReason.BANNED_SUBWORD, f"subword={word}"
        return None

    def check_batch(self, urls: list[str | None]) -> list[tuple[UrlReason, str] | None]:
        return [self.check(u) for u in urls]
