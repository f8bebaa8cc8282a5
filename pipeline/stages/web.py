"""Web pages before language ID: HTML to main-content text, the URL filter, PII redaction.

They are the first links of the first chain (pipeline.stages.chain). Documents that are not web
pages pass untouched: extraction acts on documents read from WARC responses (`html` set), the URL
filter on `url_filter.apply` sources with an http(s) URL, redaction on `pii.apply` sources.
"""

import dataclasses
import os

from apache_beam.io.filesystems import FileSystems

from pipeline.config import ConfigError, PipelineConfig
from pipeline.records import Document
from pipeline.stages import registry
from pipeline.stages.base import KEEP, Verdict, WorkerResource
from pipeline.stages.chain import Step
from pipeline.text.extract import EXTRACT_STAGE, ExtractConfig, ExtractFailure, extract_batch
from pipeline.text.pii import PII_STAGE, PiiConfig, redact_batch
from pipeline.text.urls import DEFAULT_BLOCKLIST_DIR, UrlFilterConfig

URL_STAGE = registry.URL_STAGE  # the registry declares every stage id (pipeline.stages.registry)
BLOCKLIST_FILES = ("domains", "urls", "banned_words.txt", "soft_banned_words.txt", "banned_subwords.txt")


class ExtractText:
    """Selector: a page's main-content text replaces its HTML (extract_batch, one call per batch);
    a page with nothing left, too large or too slow is rejected with the extractor's reason."""

    stage_id = EXTRACT_STAGE

    def __init__(self, cfg: ExtractConfig):
        self._cfg = cfg

    def setup(self) -> None:
        pass

    def select(self, docs: list[Document]) -> list[tuple[Document, Verdict]]:
        out = [(doc, KEEP) for doc in docs]
        pages = [i for i, doc in enumerate(docs) if doc.html is not None]
        if not pages:
            return out
        results = extract_batch([(docs[i].html, docs[i].metadata.get("http_charset")) for i in pages], self._cfg)
        for i, result in zip(pages, results):
            doc = docs[i].replace(html=None)
            if isinstance(result, ExtractFailure):
                out[i] = (doc, Verdict(result.reason, result.detail))
            else:
                meta = {"title": result.title, "charset": f"{result.charset} ({result.charset_source})"}
                out[i] = (doc.replace(text=result.text).with_scores(result.scores(EXTRACT_STAGE)).with_metadata(meta), KEEP)
        return out


def _load_url_filter(cfg: UrlFilterConfig):
    from pipeline.text.urls import UrlFilter

    return UrlFilter.load(cfg)


class FilterUrls:
    """Gate: blocklisted domains and URLs, banned words and sub-words in the URL. UT1's 4.5 M
    domains take ~1 GB and ~4 s to load: once per worker process (WorkerResource)."""

    stage_id = URL_STAGE

    def __init__(self, cfg: UrlFilterConfig):
        self._apply = frozenset(cfg.apply)
        self._filter = WorkerResource(_load_url_filter, cfg)

    def setup(self) -> None:
        self._filter.get()

    def check(self, doc: Document) -> Verdict:
        if doc.source not in self._apply:
            return KEEP
        url = doc.url if doc.url and doc.url.startswith(("http://", "https://")) else None  # not an input location
        found = self._filter.get().check(url)
        return KEEP if found is None else Verdict(found[0], found[1])


class RedactPii:
    """Annotator: emails and public IP addresses become placeholders; their counts go into scores."""

    stage_id = PII_STAGE

    def __init__(self, cfg: PiiConfig):
        self._cfg = cfg
        self._apply = frozenset(cfg.apply)

    def setup(self) -> None:
        pass

    def annotate(self, docs: list[Document]) -> list[Document]:
        out = list(docs)
        picked = [i for i, doc in enumerate(docs) if doc.source in self._apply]
        for i, result in zip(picked, redact_batch([docs[i].text for i in picked], self._cfg)):
            doc = docs[i] if result.text == docs[i].text else docs[i].replace(text=result.text)
            out[i] = doc.with_scores(result.scores(PII_STAGE))
        return out


def web_steps(cfg: PipelineConfig) -> list[Step]:
    """The chain steps, in order, that the first chain starts with."""
    steps = [Step(ExtractText(cfg.extract), cfg.extract.batch_size)]
    if cfg.url_filter.enabled:
        steps.append(Step(FilterUrls(cfg.url_filter)))
    if cfg.pii.enabled:
        steps.append(Step(RedactPii(cfg.pii), cfg.pii.batch_size))
    return steps


def build(graph, cfg: PipelineConfig) -> None:
    """Registry builder: the web steps open the first chain (pipeline.stages.registry)."""
    graph.add_steps("", web_steps(cfg))


def check_blocklists(cfg: PipelineConfig) -> tuple[PipelineConfig, list[str]]:
    """Before any work: a blocklist folder the user set must hold every list; the default folder,
    when `python -m pipeline.text.url_blocklist` has not filled it, becomes "" with a warning, so
    a first run works offline. Returns the config to run with and the warnings to print."""
    url = cfg.url_filter
    if not url.enabled or not url.blocklist_dir:
        return cfg, []
    folder = url.blocklist_dir if "://" in url.blocklist_dir else os.path.expanduser(url.blocklist_dir)
    missing = [name for name in BLOCKLIST_FILES if not FileSystems.exists(f"{folder.rstrip('/')}/{name}")]
    if not missing:
        return cfg, []
    if url.blocklist_dir != DEFAULT_BLOCKLIST_DIR:
        raise ConfigError(
            f"url_filter.blocklist_dir: no {missing[0]} in {url.blocklist_dir}; run python -m pipeline.text.url_blocklist --out {url.blocklist_dir}"
        )
    warning = (
        f"url_filter: no blocklists in {DEFAULT_BLOCKLIST_DIR} (python -m pipeline.text.url_blocklist fetches UT1 and FineWeb's"
        " word lists); filtering URLs by the configured lists only"
    )
    return dataclasses.replace(cfg, url_filter=dataclasses.replace(url, blocklist_dir="")), [warning]
