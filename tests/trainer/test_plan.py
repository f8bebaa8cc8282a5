"""The plan CLI against a manifest written here, and the FLOPs/peak arithmetic it rests on."""

import subprocess
import sys

import pytest

from schemas.manifest import (
    Manifest,
    ShardInfo,
    SourceMixture,
    TokenizerInfo,
    config_sha256,
)
from schemas.tokens import ShardRow, write_token_shard
from trainer.flops import PEAK_BF16_FLOPS, flops_per_token, mfu, peak_flops
from trainer.model import model_config
from trainer.plan import main, nearest_preset, parse_size

V = 256


def _mixture(tokens: int, share: float) -> SourceMixture:
    return SourceMixture(
        target_share=share,
        achieved_share=share,
        available_tokens=tokens,
        rate=1.0,
        epochs=1.0,
        tokens_written=tokens,
        documents_written=tokens // 100,
    )


@pytest.fixture
def manifest_path(tmp_path):
    """2,000 tokens: 1,500 from web and 500 from books, in one real shard."""
    rows = [ShardRow(doc_id=f"w{i}", source="web", tokens=[i % V] * 100) for i in range(15)]
    rows += [ShardRow(doc_id=f"b{i}", source="books", tokens=[7] * 100) for i in range(5)]
    with open(tmp_path / "shard-00000.arrow", "wb") as f:
        written = write_token_shard(f, rows, V)
    manifest = Manifest(
        tokenizer=TokenizerInfo(file="tokenizer.json", sha256="0" * 64, vocab_size=V, eod_id=0, token_dtype="uint16"),
        shards=[
            ShardInfo(
                path="shard-00000.arrow", rows=written.rows, tokens=written.tokens, sha256=written.sha256, tokens_by_source=written.tokens_by_source
            )
        ],
        mixture_unit="tokens",
        sources={"web": _mixture(1500, 0.75), "books": _mixture(500, 0.25)},
        config={"run": "test"},
        config_sha256=config_sha256({"run": "test"}),
    )
    path = tmp_path / "manifest.json"
    path.write_text(manifest.to_json())
    return str(path)


def test_plan_prints_compute_and_chinchilla_numbers(manifest_path, capsys):
    assert main(["--data", manifest_path, "--params", "124M", "--seq-len", "1024", "--mfu", "0.4", "--gpus", "8", "--gpu", "H100"]) == 0
    out = capsys.readouterr().out
    # By hand: the 125m preset (12 x 12 x 768, SwiGLU hidden 2112) with a 256-token vocabulary, untied.
    d, L, h, D = 768, 12, 2112, 2000
    block = 3 * d * d + d * d + 3 * d * h + 2 * d
    N = L * block + d + 2 * V * d
    assert N == 87_116_544
    f_tok = 6 * (N - V * d) + 12 * L * d * 1024  # PaLM: the input embedding is a lookup, attention 12 L d T
    assert f_tok == 634_765_824
    C = f_tok * D
    wanted = 20 * N
    seconds = f_tok * wanted / (0.4 * 8 * 989e12)
    assert "2,000 tokens, vocab 256, in 1 shard (" in out
    assert "web" in out and "1,500" in out and "75.0%" in out and "books" in out and "25.0%" in out
    assert "model    125m (the preset nearest 124M)" in out
    assert f"N = {N:,} params" in out and f"{f_tok:.4g} FLOPs/token at seq_len 1024" in out
    assert f"C = FLOPs/token x D = {C:.3e} FLOPs" in out and "1.270e+12" in out
    assert f"(6ND = {6 * N * D:.3e})" in out
    assert "N_opt = D/20 = 100 params" in out and "nearest preset tiny" in out
    assert f"20N = {wanted:,} tokens = {wanted / D:,.2f} epochs" in out and "871,165.44 epochs" in out
    assert f"{seconds / 60:.3g} min" in out and "5.82 min" in out
    assert "at 40% MFU on 8 x H100 (989 TFLOP/s" in out
    assert len(out.strip().splitlines()) == 9


def test_plan_with_a_named_preset_tied(manifest_path, capsys):
    assert main(["--data", manifest_path, "--preset", "tiny", "--tie-embeddings", "--gpu", "NVIDIA H200", "--gpus", "1"]) == 0
    out = capsys.readouterr().out
    assert "model    tiny (as asked): 4 layers x 4 heads x 64 d, N = 229,952 params" in out
    assert "on 1 x NVIDIA H200 (989 TFLOP/s" in out


@pytest.mark.parametrize(
    "make_bad",
    [
        lambda tmp: str(tmp / "missing.json"),
        lambda tmp: (tmp / "m.json").write_text("{not json") and str(tmp / "m.json"),
        lambda tmp: (tmp / "m.json").write_text('{"format": "something else"}') and str(tmp / "m.json"),
    ],
)
def test_bad_manifest_exits_2_with_one_line(tmp_path, capsys, make_bad):
    assert main(["--data", make_bad(tmp_path), "--params", "124M"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.startswith("plan: ") and captured.err.count("\n") == 1


def test_unknown_gpu_exits_2(manifest_path, capsys):
    assert main(["--data", manifest_path, "--params", "124M", "--gpu", "TPU v5"]) == 2
    assert "unknown GPU 'TPU v5'" in capsys.readouterr().err


def test_module_exit_status(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "trainer.plan", "--data", str(tmp_path / "nope.json"), "--params", "1.3B"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 2 and result.stdout == "" and len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize(
    "text, n",
    [("124M", 124_000_000), ("1.3B", 1_300_000_000), ("350m", 350_000_000), ("125k", 125_000), ("2e9", 2_000_000_000), ("760000000", 760_000_000)],
)
def test_parse_size(text, n):
    assert parse_size(text) == n


@pytest.mark.parametrize("text", ["", "M", "12X", "-5M", "0"])
def test_parse_size_rejects(text):
    with pytest.raises(Exception, match="not a size"):
        parse_size(text)


@pytest.mark.parametrize("n, preset", [(124e6, "125m"), (2.5e8, "350m"), (7e8, "760m"), (1.3e9, "1b"), (4e9, "1b"), (1e3, "tiny"), (3e7, "10m")])
def test_nearest_preset(n, preset):
    assert nearest_preset(n, 32_000, 1024)[0] == preset


def test_flops_per_token_counts_the_head_even_when_tied():
    untied, tied = model_config("125m", 32_000, 1024), model_config("125m", 32_000, 1024, tie_embeddings=True)
    assert flops_per_token(tied, 1024) == flops_per_token(untied, 1024) == 781_042_176
    assert flops_per_token(untied, 2048) - flops_per_token(untied, 1024) == 12 * 12 * 768 * 1024


@pytest.mark.parametrize(
    "name, peak",
    [
        ("NVIDIA H100 80GB HBM3", 989e12),
        ("NVIDIA H100 PCIe", 756e12),
        ("NVIDIA H200", 989e12),
        ("NVIDIA A100-SXM4-80GB", 312e12),
        ("H100", 989e12),
        ("cpu", None),
        ("NVIDIA GeForce RTX 4090", None),
    ],
)
def test_peak_flops(name, peak):
    assert peak_flops(name) == peak


def test_mfu():
    assert mfu(1e6, 7.8e8, PEAK_BF16_FLOPS["H100 SXM"]) == pytest.approx(7.8e14 / 989e12)
