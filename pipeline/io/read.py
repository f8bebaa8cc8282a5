"""ReadDocuments: input globs -> Documents and DeadLetters, through Beam's filesystems."""

from typing import Any

import apache_beam as beam
from apache_beam.io import fileio
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics

from pipeline.config import ReadConfig
from pipeline.io.parse import READER_STAGE, InputFile, ReadReason, read_file, source_from_path
from pipeline.io.split import plan_parts
from pipeline.io.unique_ids import MakeIdsUnique
from pipeline.memory_release import release_after_worker_bundles
from pipeline.records import DeadLetter, Rejection

DEAD = "dead_letters"
READ_REJECTED = "read_rejections"
_GLOB_CHARS = "*?["


def glob_root(pattern: str) -> str:
    """The directory part of a pattern before its first wildcard ("data/a/*.jsonl" -> "data/a")."""
    cut = min((i for i, c in enumerate(pattern) if c in _GLOB_CHARS), default=len(pattern))
    head = pattern[:cut]
    return head[: head.rfind("/")] if "/" in head else ""


def common_root(patterns: list[str]) -> str:
    """The deepest directory that holds every pattern's root, by path segments (works for gs://)."""
    parts = [glob_root(p).split("/") for p in patterns]
    common = []
    for segments in zip(*parts):
        if len(set(segments)) != 1:
            break
        common.append(segments[0])
    return "/".join(common)


def relative_to(path: str, root: str) -> str:
    if root and path.startswith(root + "/"):
        return path[len(root) + 1 :]
    return path.lstrip("/")


class _ReadFile(beam.DoFn):
    """A file, or a part of one (pipeline.io.split) -> its Documents, and DeadLetters tagged DEAD."""

    def __init__(self, cfg: ReadConfig):
        self._cfg = cfg

    def setup(self):
        release_after_worker_bundles()
        self._docs = Metrics.counter(READER_STAGE, "documents")
        self._dead: dict[str, Any] = {}

    def _count_dead(self, reason: str) -> None:
        counter = self._dead.get(reason)
        if counter is None:  # the readers' reasons (JSONL, Parquet, WARC...) as they occur
            counter = self._dead[reason] = Metrics.counter(READER_STAGE, reason)
        counter.inc()

    def process(self, f: InputFile):
        path = f.path
        try:
            raw = FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED)
        except Exception as e:  # noqa: BLE001 - a file we cannot open is bad input, not a bug
            self._count_dead(ReadReason.UNREADABLE_FILE.value)
            yield beam.pvalue.TaggedOutput(
                DEAD,
                DeadLetter(
                    location=f.rel_path,
                    reason=ReadReason.UNREADABLE_FILE.value,
                    detail=str(e).splitlines()[0] if str(e) else type(e).__name__,
                    raw_excerpt="",
                    source=source_from_path(f.path, self._cfg),
                ),
            )
            return
        with raw:
            for record in read_file(raw, f, self._cfg):
                if isinstance(record, DeadLetter):
                    self._count_dead(record.reason)
                    yield beam.pvalue.TaggedOutput(DEAD, record)
                elif isinstance(record, Rejection):
                    yield beam.pvalue.TaggedOutput(READ_REJECTED, record)
                else:
                    self._docs.inc()
                    yield record


class ReadDocuments(beam.PTransform):
    """Matches the patterns at run time, cuts large plain JSONL and Parquet files into parts
    (pipeline.io.split), and reads each part on one worker; parts spread out over workers by a
    Reshuffle. Returns {"documents": ..., "dead_letters": ..., "repeated_ids": a
    singleton {"ids", "documents"}, "rejected": records refused as they are read (WARC responses
    that are not HTML pages, stage read.warc.v1)}; document ids are unique in the run
    (pipeline.io.unique_ids)."""

    def __init__(self, patterns: list[str], cfg: ReadConfig):
        super().__init__()
        self._patterns = list(patterns)
        self._cfg = cfg

    def expand(self, pbegin):
        root = common_root(self._patterns)
        out = (
            pbegin
            | "Patterns" >> beam.Create(self._patterns)
            | "Match" >> fileio.MatchAll()
            | "Paths" >> beam.Map(lambda m: (m.path, m.size_in_bytes))
            # Two patterns may match the same file; read it once.
            | "Distinct" >> beam.Distinct()
            | "Plan" >> beam.FlatMap(lambda f, cfg: plan_parts(f[0], f[1], relative_to(f[0], root), cfg), self._cfg)
            | "Spread" >> beam.Reshuffle()
            | "Read" >> beam.ParDo(_ReadFile(self._cfg)).with_outputs(DEAD, READ_REJECTED, main="documents")
        )
        documents, repeated = out.documents | "UniqueIds" >> MakeIdsUnique()
        return {"documents": documents, "dead_letters": out[DEAD], "rejected": out[READ_REJECTED], "repeated_ids": repeated}
