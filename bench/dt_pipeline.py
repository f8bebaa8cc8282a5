"""datatrove's side of the end-to-end benchmark. Runs with bench/.venv-datatrove's python (made
by bench/setup_datatrove.sh), never imported by the project; bench/e2e_datatrove.py starts it.

    bench/.venv-datatrove/bin/python bench/dt_pipeline.py --mode filters|full --input DIR \
        --work DIR --workers 2 --tasks N --lid-model lid.176.ftz [--tokenizer tokenizer.json]

filters: JsonlReader -> GopherQualityFilter -> GopherRepetitionFilter -> LanguageFilter -> JsonlWriter
         (the issue's anchor; default filter arguments; LanguageFilter keeps --languages at 0.65)
full:    filters, then MinHash dedup (datatrove's 4 stages: signatures, buckets, cluster, filter;
         default MinhashConfig: 5-grams, 14 buckets x 8 hashes), then DocumentTokenizer with
         --tokenizer (the tokenizer.json our run trained: datatrove gets it for free).
Prints one JSON line: {"stages": {name: seconds}, "docs_out": ..., "seconds": ...}.
LanguageFilter's model: lid.176.ftz from the path given (datatrove would download lid.176.bin).
"""

import argparse
import glob
import gzip
import json
import os
import time

from datatrove.executor import LocalPipelineExecutor
from datatrove.pipeline.filters import GopherQualityFilter, GopherRepetitionFilter, LanguageFilter
from datatrove.pipeline.readers import JsonlReader
from datatrove.pipeline.writers import JsonlWriter
from datatrove.utils.lid import FT176LID


class LocalFT176(FT176LID):
    """FT176LID reading a local model file instead of downloading lid.176.bin."""

    def __init__(self, languages, path):
        super().__init__(languages)
        self.path = path

    @property
    def model(self):
        if self._model is None:
            from fasttext.FastText import _FastText

            self._model = _FastText(self.path)
        return self._model


class LocalLanguageFilter(LanguageFilter):
    def __init__(self, model_path, languages=None, language_threshold=0.65):
        super().__init__(languages=languages, language_threshold=language_threshold)
        self.model = LocalFT176(self.languages, model_path)


def count_docs(folder: str) -> int:
    n = 0
    for path in glob.glob(os.path.join(folder, "*.jsonl.gz")):
        with gzip.open(path, "rt") as f:
            n += sum(1 for _ in f)
    return n


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--mode", choices=("filters", "full"), default="filters")
    p.add_argument("--input", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--tasks", type=int, default=8)
    p.add_argument("--lid-model", required=True)
    p.add_argument("--languages", default="de,en,es,fr,it,ja,pt,ru,zh")
    p.add_argument("--tokenizer")
    args = p.parse_args()
    w, stages, t0 = args.work, {}, time.perf_counter()
    langs = args.languages.split(",") if args.languages else None

    def run(name, pipeline, tasks):
        start = time.perf_counter()
        LocalPipelineExecutor(
            pipeline=pipeline,
            tasks=tasks,
            workers=min(args.workers, tasks),
            start_method="fork",
            logging_dir=os.path.join(w, "logs", name),
            skip_completed=False,
        ).run()
        stages[name] = time.perf_counter() - start

    filtered = os.path.join(w, "filtered")
    run(
        "read + gopher quality + gopher repetition + language + write",
        [
            JsonlReader(args.input, glob_pattern="*.jsonl.gz", text_key="text", id_key="id"),
            GopherQualityFilter(),
            GopherRepetitionFilter(),
            LocalLanguageFilter(args.lid_model, languages=langs),
            JsonlWriter(filtered, compression="gzip"),
        ],
        args.tasks,
    )
    out = {"docs_filtered": count_docs(filtered)}
    if args.mode == "full":
        from datatrove.pipeline.dedup import MinhashDedupBuckets, MinhashDedupCluster, MinhashDedupFilter, MinhashDedupSignature
        from datatrove.pipeline.dedup.minhash import MinhashConfig
        from datatrove.pipeline.tokens import DocumentTokenizer

        cfg = MinhashConfig()
        reader = lambda: JsonlReader(filtered, glob_pattern="*.jsonl.gz")  # noqa: E731
        run("minhash signatures", [reader(), MinhashDedupSignature(os.path.join(w, "sigs"), config=cfg)], args.tasks)
        run("minhash buckets", [MinhashDedupBuckets(os.path.join(w, "sigs"), os.path.join(w, "buckets"), config=cfg)], cfg.num_buckets)
        run("minhash cluster", [MinhashDedupCluster(os.path.join(w, "buckets"), os.path.join(w, "remove_ids"), config=cfg)], 1)
        run(
            "minhash filter + tokenize",
            [
                reader(),
                MinhashDedupFilter(os.path.join(w, "remove_ids")),
                JsonlWriter(os.path.join(w, "deduped"), compression="gzip"),
                DocumentTokenizer(
                    os.path.join(w, "tokens"),
                    tokenizer_name_or_path=args.tokenizer,
                    eos_token="<|endoftext|>",
                    local_working_dir=os.path.join(w, "tok-tmp"),
                    shuffle_documents=False,
                ),
            ],
            args.tasks,
        )
        out["docs_deduped"] = count_docs(os.path.join(w, "deduped"))
    out.update(stages=stages, seconds=time.perf_counter() - t0)
    print("DT_RESULT " + json.dumps(out))


if __name__ == "__main__":
    main()
