"""Workers' progress lines inside long stages (pipeline.progress): a line at most every
PROGRESS_SECONDS with this process's running totals, none for work that ends sooner, and a run's
chains and tokenization print them."""

import re
import threading
import time
from types import SimpleNamespace

from pipeline import progress, run
from tests.test_run import GOOD, _jsonl

_LINE = re.compile(r"^  \.\.\. worker \d+: (.+?): ([\d,]+) documents \((\S+) characters\) done, [\d.]+ min so far$", re.M)


def _docs(*lengths):
    return [SimpleNamespace(text="x" * n) for n in lengths]


def test_a_line_per_interval_with_running_totals(monkeypatch, capsys):
    monkeypatch.setattr(progress, "PROGRESS_SECONDS", 0.0)
    meter = progress.Meter("a to b")
    meter.advance(_docs(500, 500, 500))
    meter.advance(_docs(1_000_000, 1_000_000))
    progress.Meter("a to b").advance(_docs(10))  # another run's meter counts from zero
    assert _LINE.findall(capsys.readouterr().out) == [("a to b", "3", "1.5k"), ("a to b", "5", "2.0M"), ("a to b", "1", "10")]


def test_nothing_for_work_that_ends_within_the_interval(monkeypatch, capsys):
    monkeypatch.setattr(progress, "PROGRESS_SECONDS", 3600.0)
    meter = progress.Meter("x")
    for _ in range(100):
        meter.advance(_docs(10))
    with progress.still_running("y", "training"):
        pass
    assert capsys.readouterr().out == ""


def test_a_long_call_says_it_is_still_running_until_it_returns(monkeypatch, capsys):
    monkeypatch.setattr(progress, "PROGRESS_SECONDS", 0.05)
    with progress.still_running("tokenize.v1", "training the BPE tokenizer on its sample"):
        time.sleep(0.3)
    printed = capsys.readouterr().out.splitlines()
    assert len(printed) >= 2
    assert all(
        re.fullmatch(r"  \.\.\. worker \d+: tokenize\.v1: training the BPE tokenizer on its sample, [\d.]+ min so far", line) for line in printed
    )
    time.sleep(0.2)
    assert capsys.readouterr().out == "" and not any(t.name.startswith("progress ") for t in threading.enumerate())


def test_counts_are_safe_under_threads(monkeypatch, capsys):
    monkeypatch.setattr(progress, "PROGRESS_SECONDS", 3600.0)
    meter, batch = progress.Meter("t"), _docs(2)
    threads = [threading.Thread(target=lambda: [meter.advance(batch) for _ in range(2_000)]) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    monkeypatch.setattr(progress, "PROGRESS_SECONDS", 0.0)
    meter.advance([])
    assert _LINE.findall(capsys.readouterr().out) == [("t", "16,000", "32.0k")]


def test_a_run_prints_its_chains_dedup_hashing_and_tokenization(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(progress, "PROGRESS_SECONDS", 0.0)  # the in_memory worker is this process
    (tmp_path / "in.jsonl").write_bytes(_jsonl([{**r, "text": f"{r['text']} Edition {i}."} for i in range(40) for r in GOOD]))
    (tmp_path / "cfg.yaml").write_text("dedup:\n  methods: [exact, paragraphs, minhash]\ntokenizer:\n  vocab_size: 400\n")
    argv = ["--runner=DirectRunner", "--input", str(tmp_path / "in.jsonl"), "--output", str(tmp_path / "out"), "--config", str(tmp_path / "cfg.yaml")]
    assert run.main(argv) == 0
    lines = _LINE.findall(capsys.readouterr().out)
    first_chain = [int(n.replace(",", "")) for label, n, _ in lines if label.startswith("extract.html.v1 to ")]
    assert first_chain and first_chain[-1] == 160  # every document read went through it
    assert {"dedup.paragraphs.v1 hashing", "dedup.minhash.v1 sketching", "tokenize.v1"} <= {label for label, _, _ in lines}
