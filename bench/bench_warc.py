"""WARC parsing speed: fastwarc vs warcio on the same files, and our reader (pipeline.io.warc).

Run:  python -m bench.bench_warc [--pages 300] [--copies 4] [--repeat 3]

Builds a WARC from real Debian HTML manuals (python -m pipeline.sample.warc_corpus --pages N,
needs apt-get the first time), concatenates it `--copies` times (gzip members stay members),
then reads every record and its body with each reader: records/s and compressed MB/s, best of
`--repeat` turns, ratios against warcio. Writes bench/results/bench_warc.md.
"""

import gzip
import io
import os
import sys

from bench.common import RESULTS_DIR, best_of_each, command_line, header, write_report
from pipeline.cli_args import OneLineParser
from pipeline.io.warc import WarcConfig, read_warc
from pipeline.sample.warc_corpus import build


def fastwarc_all(data: bytes) -> int:
    from fastwarc.warc import ArchiveIterator

    n = 0
    for rec in ArchiveIterator(io.BytesIO(data), parse_http=True):
        rec.reader.read()
        n += 1
    return n


def warcio_all(data: bytes) -> int:
    from warcio.archiveiterator import ArchiveIterator

    n = 0
    for rec in ArchiveIterator(io.BytesIO(data)):
        rec.content_stream().read()
        n += 1
    return n


def ours_all(data: bytes, name: str) -> int:
    return sum(1 for _ in read_warc(io.BytesIO(data), name, name, WarcConfig()))


def main(argv=None) -> int:
    ap = OneLineParser(prog="python -m bench.bench_warc", description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, default=300, help="HTML pages in the built WARC (default 300)")
    ap.add_argument("--copies", type=int, default=4, help="times the WARC is concatenated (default 4)")
    ap.add_argument("--repeat", type=int, default=3, help="timed turns per reader, best kept (default 3)")
    ap.add_argument("--scratch", default="/tmp/corpusforge-warc-build", help="where the Debian packages are unpacked")
    args = ap.parse_args(argv)
    if min(args.pages, args.copies, args.repeat) < 1:
        ap.error("--pages, --copies and --repeat must be >= 1")
    folder = os.path.join(RESULTS_DIR, "warc_bench_corpus")
    expect = build(folder, args.scratch, max(args.pages, 4))
    files = {}
    with open(os.path.join(folder, "crawl.warc.gz"), "rb") as f:
        # Without the deliberately truncated last record, so the copies concatenate cleanly.
        files["crawl.warc.gz"] = f.read()[: expect["records"]["crawl.warc.gz"][-1]["offset"]] * args.copies
    files["crawl.warc"] = gzip.decompress(files["crawl.warc.gz"])  # the same records, uncompressed
    lines = header("WARC reading: fastwarc vs warcio vs ours", command_line("bench.bench_warc", ap, args), ("fastwarc", "warcio", "resiliparse"))
    lines += [
        "",
        "Every record read with its body; MB/s is of the file as stored (compressed for .gz).",
        "",
        "| file | reader | records | seconds | records/s | MB/s | vs warcio |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for name, data in files.items():
        counts = {"warcio": warcio_all(data), "fastwarc": fastwarc_all(data), "ours (read_warc)": ours_all(data, name)}
        best = best_of_each(
            args.repeat,
            {
                "warcio": lambda d=data: warcio_all(d),
                "fastwarc": lambda d=data: fastwarc_all(d),
                "ours (read_warc)": lambda d=data, n=name: ours_all(d, n),
            },
        )
        mb = len(data) / 1e6
        for reader, secs in best.items():
            lines.append(
                f"| {name} ({mb:.1f} MB) | {reader} | {counts[reader]} | {secs:.3f} | {counts[reader] / secs:,.0f} | "
                f"{mb / secs:.1f} | {best['warcio'] / secs:.2f}x |"
            )
    lines += [
        "",
        "ours counts only documents, rejections and dead letters (request/warcinfo/metadata records are skipped);",
        "the libraries count every record. Time includes parsing the HTTP headers and reading each body.",
    ]
    write_report(os.path.join(RESULTS_DIR, "bench_warc.md"), "\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
