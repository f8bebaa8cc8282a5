"""The fixture builder's entry point answers --help and refuses bad options in one line."""

import subprocess
import sys


def test_help_and_bad_options():
    ok = subprocess.run([sys.executable, "-m", "pipeline.sample.warc_corpus", "--help"], check=False, capture_output=True, text=True)
    assert ok.returncode == 0 and "--pages" in ok.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "pipeline.sample.warc_corpus", "--out", "/tmp/x", "--pages", "two"], check=False, capture_output=True, text=True
    )
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1
    few = subprocess.run(
        [sys.executable, "-m", "pipeline.sample.warc_corpus", "--out", "/tmp/x", "--pages", "1"], check=False, capture_output=True, text=True
    )
    assert few.returncode == 2 and "--pages" in few.stderr
