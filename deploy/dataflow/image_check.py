"""Run at image build time (Dockerfile) and by check_image_locally.sh: fail early, with one line,
if the worker environment cannot run the pipeline.

- every requirement of the installed corpusforge distribution is satisfied, except torch (only the
  trainer imports it and the image leaves it out on purpose);
- the native libraries import (fastText, KenLM, tokenizers, pyarrow, the toxicity classifier);
- the models the default config uses are inside the installed package, not in a source checkout;
- nothing under pipeline/ or schemas/ has imported torch.
"""

import importlib
import importlib.metadata as md
import os
import sys

from packaging.requirements import Requirement

SKIPPED = {"torch"}


def main() -> int:
    problems = []
    for line in md.requires("corpusforge") or []:
        req = Requirement(line)
        if req.marker is not None and not req.marker.evaluate({"extra": ""}):
            continue  # an optional extra ([dev], [bench], [ccnet])
        if req.name in SKIPPED:
            continue
        try:
            version = md.version(req.name)
        except md.PackageNotFoundError:
            problems.append(f"{req.name}: not installed (needed: {req})")
            continue
        if version not in req.specifier:
            problems.append(f"{req.name}: {version} installed, needed {req}")
    for module in ("apache_beam", "fasttext", "kenlm", "tokenizers", "pyarrow", "zstandard", "datasketch", "profanity_check", "yaml"):
        try:
            importlib.import_module(module)
        except Exception as e:  # noqa: BLE001
            problems.append(f"import {module}: {e}")

    import pipeline
    from pipeline.run import SAMPLE_GLOB
    from pipeline.stages.perplexity import shipped_models
    from pipeline.text.langid import default_model_path
    from pipeline.text.toxicity.classifier import ProfanityClassifier

    root = os.path.dirname(os.path.abspath(pipeline.__file__))
    if "site-packages" not in root and "dist-packages" not in root and not os.environ.get("CORPUSFORGE_ALLOW_SOURCE_TREE"):
        problems.append(f"pipeline is imported from {root}, not from an installed package")
    for name, path in {"lid.176.ftz": default_model_path(), **{f"kenlm {k}": v for k, v in shipped_models().items()}}.items():
        if not os.path.isfile(path):
            problems.append(f"model {name}: no file at {path}")
    if not shipped_models():
        problems.append("no shipped KenLM models in the package")
    import glob

    if not glob.glob(SAMPLE_GLOB):
        problems.append(f"the built-in sample is missing ({SAMPLE_GLOB})")
    ProfanityClassifier()  # unpickles the scikit-learn model: fails on a scikit-learn mismatch
    if "torch" in sys.modules:
        problems.append("something under pipeline/ imported torch")

    if problems:
        for p in problems:
            print(f"image check: {p}", file=sys.stderr)
        return 1
    print(
        f"image check: ok (apache-beam {md.version('apache-beam')}, corpusforge {md.version('corpusforge')} at {root}, "
        f"python {sys.version.split()[0]}, models: lid.176.ftz + kenlm {', '.join(sorted(shipped_models()))})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
