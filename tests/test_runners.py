"""Runner independence, checked without the services: the full graph builds with each runner's
options and gs:// paths, survives Beam's runner-API round trip (what every runner submits), every
DoFn and CombineFn pickles and unpickles, and no module the graph runs opens a path itself."""

import ast
import os
import sys

import apache_beam as beam
import pytest
from apache_beam.internal import pickler
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.pipeline import PipelineVisitor

from pipeline.config import load_config
from pipeline.graph import build_graph

RUNNERS = {
    "direct": ["--runner=DirectRunner"],
    "flink": ["--runner=FlinkRunner", "--flink_master=localhost:8081", "--environment_type=LOOPBACK"],
    "spark": ["--runner=SparkRunner", "--spark_master_url=spark://localhost:7077", "--environment_type=LOOPBACK"],
    # Dataflow validates these at construction (bucket and project names), not the service.
    "dataflow": [
        "--runner=DataflowRunner",
        "--project=my-project-123",
        "--region=us-central1",
        "--temp_location=gs://my-bucket-123/tmp",
        "--staging_location=gs://my-bucket-123/staging",
    ],
}
# Every optional stage on, so every DoFn is in the graph.
EVERYTHING = """
dedup:
  methods: [exact, paragraphs, minhash, simhash]
perplexity:
  buckets: run
  max_perplexity: {"*": 100000.0}
toxicity:
  count_threshold: 5
"""


def _graph(runner: str) -> beam.Pipeline:
    cfg = load_config(text=EVERYTHING)
    p = beam.Pipeline(options=PipelineOptions(RUNNERS[runner]))
    build_graph(p, ["gs://my-bucket-123/in/*.jsonl.gz"], "gs://my-bucket-123/out", cfg, {"config": cfg.to_dict(), "inputs": []})
    return p


@pytest.mark.parametrize("runner", sorted(RUNNERS))
def test_full_graph_builds_and_round_trips_for_every_runner(runner):
    p = _graph(runner)
    proto = p.to_runner_api()  # pickles every DoFn, CombineFn and side-input view
    names = {t.unique_name for t in proto.components.transforms.values()}
    for stage in ("ReadDocuments", "LanguageAndQuality", "ToxicityAndPerplexity", "PerplexityBuckets", "WriteTokenShards", "WriteStats"):
        assert any(stage in n for n in names), stage
    again = beam.Pipeline.from_runner_api(proto, p.runner, p._options)  # and unpickles them
    assert len(again.to_runner_api().components.transforms) == len(proto.components.transforms)


class _Fns(PipelineVisitor):
    def __init__(self):
        self.fns = []

    def visit_transform(self, node):
        transform = node.transform
        for attr in ("fn", "combine_fn", "_fn"):
            fn = getattr(transform, attr, None)
            if fn is not None and not isinstance(fn, (str, int)):
                self.fns.append((node.full_label, fn))


def test_every_function_pickles_and_unpickles():
    visitor = _Fns()
    _graph("direct").visit(visitor)
    assert len(visitor.fns) > 100
    for label, fn in visitor.fns:
        restored = pickler.loads(pickler.dumps(fn))
        assert type(restored) is type(fn), label


# Modules the graph runs in a worker may only touch files through Beam's FileSystems, except:
ALLOWED = {
    "pipeline/io/local.py": "the worker-local model cache: copies from Beam's filesystems into a temp folder",
    "pipeline/text/toxicity/wordlists.py": "reads the word lists shipped inside the package",
    "pipeline/stages/perplexity.py": "lists the models shipped inside the package",
    "pipeline/run.py": "the launcher, on the submitting machine: a local --input folder becomes a glob",
    "pipeline/stages/web.py": "check_blocklists, on the launcher: expands ~ in a local url_filter.blocklist_dir",
    "pipeline/text/urls.py": "UrlFilter.load: expands ~ in url_filter.blocklist_dir and checks a local folder exists (remote paths skip the check)",
}
_FILE_MODULES = ("os.", "os.path.", "glob.", "shutil.", "pathlib.", "Path(")


def _file_calls(path: str) -> list[str]:
    """Calls of the builtin open() and of os / os.path / glob / shutil / pathlib file functions."""
    tree = ast.parse(open(path, encoding="utf-8").read(), path)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = ast.unparse(node.func)
            pure = name in (
                "os.path.join",
                "os.path.basename",
                "os.path.dirname",
                "os.path.normpath",
                "os.path.relpath",
                "os.environ.get",
                "os.cpu_count",
                "os.getpid",
                "os.path.commonpath",
                "os.path.abspath",
            )
            if name == "open" or (name.startswith(_FILE_MODULES) and not pure):
                found.append(f"{path}:{node.lineno} {name}()")
    return found


def test_modules_the_graph_runs_use_beams_filesystems():
    """The modules a fresh process imports to build and check a run (not those other tests import)."""
    import subprocess

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    listing = (
        "import sys, pipeline.graph, pipeline.run\n"
        "from pipeline.config import PipelineConfig\n"
        "pipeline.run.check_models(PipelineConfig())\n"
        "print('\\n'.join(m.__file__ for n, m in sorted(sys.modules.items()) if n.split('.')[0] in ('pipeline', 'schemas') and getattr(m, '__file__', None)))\n"
    )
    out = subprocess.run([sys.executable, "-c", listing], cwd=root, capture_output=True, text=True, check=True).stdout
    modules = sorted(os.path.relpath(line, root) for line in out.splitlines() if line.strip())
    assert "pipeline/io/read.py" in modules and "pipeline/stages/tokenize.py" in modules
    offending = [call for path in modules if path not in ALLOWED for call in _file_calls(os.path.join(root, path))]
    assert offending == [], "local file access outside Beam's FileSystems:\n" + "\n".join(offending)


def test_default_models_are_found_on_the_worker_not_baked_into_the_job():
    """With the shipped defaults, the pickled stages name no path of the launching machine: a
    worker resolves them in setup() inside its own install."""
    import pickle

    from pipeline.stages.language import IdentifyLanguage
    from pipeline.stages.perplexity import ScorePerplexity
    from pipeline.text.langid import LanguageConfig
    from pipeline.text.perplexity import PerplexityConfig

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for stage in (IdentifyLanguage(LanguageConfig()), ScorePerplexity(PerplexityConfig())):
        blob = pickle.dumps(stage)  # plain pickle: Beam's pickler base64-encodes, hiding the strings
        assert b"site-packages" not in blob and root.encode() not in blob, type(stage).__name__
    assert b"/somewhere/lid.bin" in pickle.dumps(IdentifyLanguage(LanguageConfig(model="/somewhere/lid.bin")))
