"""Run as a script by train.py: trains one fastText supervised model in a fresh process.

    python fit.py TRAIN_TXT MODEL_BIN '{"dim": 64, ...}'      exit 0: saved; 3: diverged (NaN)

(-P: its folder is not put on sys.path, where our module names could shadow the standard library.)

Why a process of its own: fastText 0.9.3 carries state from one training to the next inside a
process: the same file, settings and seed trained twice gave one model, then "Encountered NaN."
on the third call (dim 32, the sample), while every fresh process gives the same bytes. Imports
nothing of ours, so it runs wherever `fasttext` is installed.
"""

import argparse
import json
import sys


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description="Train one fastText supervised model (called by pipeline.text.quality_classifier.train).")
    parser.add_argument("data", help="training file: one '__label__x text' line per document")
    parser.add_argument("model", help="where to save the .bin")
    parser.add_argument("settings", help="fasttext.train_supervised keyword arguments, as JSON")
    args = parser.parse_args(argv)
    import fasttext

    data, model_path, settings = args.data, args.model, json.loads(args.settings)
    fasttext.FastText.eprint = lambda *args, **kwargs: None
    try:
        model = fasttext.train_supervised(input=data, **settings)
    except RuntimeError as e:
        if "NaN" in str(e):
            print(str(e), file=sys.stderr)
            return 3
        raise
    model.save_model(model_path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
