"""Document masking (trainer/attention.py): a token sees only its own document, whatever packs it."""

import json
import os
import warnings

import pytest
import torch

from tests.trainer.shards import write_test_shards
from tests.trainer.test_train import TINY, _run
from trainer.attention import attention_mask, dense_mask, document_ids
from trainer.model import GPT, Block, model_config, rope_tables

V, T, EOD = 256, 32, 0


def _model(attention: str) -> GPT:
    torch.manual_seed(0)
    return GPT(model_config("tiny", V, T, attention=attention, eod_id=EOD)).eval()


def _window(first: list[int], second: list[int]) -> torch.Tensor:
    """One window: document 1 and its eod, document 2 and its eod, then padding of another document."""
    ids = [*first, EOD, *second, EOD]
    return torch.tensor([ids + [7] * (T - len(ids))])


def _logits(model: GPT, idx: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return model(idx)[0]


def test_document_ids_give_the_eod_to_the_document_it_ends():
    idx = torch.tensor([[5, 6, EOD, 8, EOD, EOD, 9]])
    assert document_ids(idx, EOD).tolist() == [[0, 0, 0, 1, 1, 2, 3]]
    mask = dense_mask(document_ids(idx, EOD))[0, 0]
    assert mask[3].tolist() == [False, False, False, True, False, False, False]  # token 8 sees itself only
    assert mask[4].tolist() == [False, False, False, True, True, False, False]  # its eod sees the document


def test_the_second_document_does_not_see_the_first():
    first = torch.randint(1, V, (10,)).tolist()
    other = torch.randint(1, V, (10,)).tolist()
    second = torch.randint(1, V, (12,)).tolist()
    a, b = _window(first, second), _window(other, second)
    doc2 = slice(11, 24)  # the second document and its eod
    document, causal = _model("document"), _model("causal")
    torch.testing.assert_close(_logits(document, a)[doc2], _logits(document, b)[doc2], rtol=0, atol=1e-6)
    # causal attention lets the first document into the second's logits: the check above can fail
    assert (_logits(causal, a)[doc2] - _logits(causal, b)[doc2]).abs().max() > 1e-2
    assert not torch.allclose(_logits(document, a)[:11], _logits(document, b)[:11])  # the first document's own do change


def test_a_documents_logits_do_not_depend_on_where_it_starts():
    # Why positions need no restart: RoPE scores depend on t - s only, and all attended pairs are in one document.
    second = torch.randint(1, V, (12,)).tolist()
    short, long = _window([3] * 4, second), _window([3] * 15, second)
    model = _model("document")
    torch.testing.assert_close(_logits(model, short)[5:18], _logits(model, long)[16:29], rtol=1e-5, atol=1e-5)


def test_flex_attention_and_the_dense_mask_agree():
    model = _model("document")
    idx = torch.randint(0, 6, (2, T))  # ids 0..5: many short documents
    dense = _logits(model, idx)
    model.flex = True  # the CUDA path, run eagerly on the CPU
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # eager flex_attention warns that it is unfused
        flex = _logits(model, idx)
    torch.testing.assert_close(flex, dense, rtol=1e-5, atol=1e-5)


def test_a_compiled_block_with_flex_attention_matches_the_dense_mask():
    # The CUDA path compiles each block with flex_attention inside; on CPU the same compile runs (forward only:
    # CPU flex has no backward) and caught a wrong result once (trainer/attention.py, the contiguous copies).
    cfg = model_config("tiny", V, T, attention="document", eod_id=EOD)
    torch.manual_seed(0)
    block = Block(cfg)
    for p in block.parameters():
        torch.nn.init.normal_(p, 0.0, 0.2)
    cos, sin = rope_tables(cfg)
    idx, x = torch.randint(0, 6, (2, T)), torch.randn(2, T, cfg.d_model)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dense = block(x, cos, sin, attention_mask(idx, EOD, flex=False))
        flex = torch.compile(block, fullgraph=True)(x, cos, sin, attention_mask(idx, EOD, flex=True))
    torch.testing.assert_close(flex, dense, rtol=1e-5, atol=1e-5)


def test_document_attention_needs_an_eod_and_a_known_name():
    with pytest.raises(ValueError, match="eod_id"):
        model_config("tiny", V, T, attention="document")
    with pytest.raises(ValueError, match="causal, document"):
        model_config("tiny", V, T, attention="sliding")


def test_the_trainer_trains_with_document_attention(tmp_path):
    data = write_test_shards(tmp_path / "shards", docs=60, max_doc_len=60)
    out = str(tmp_path / "out")
    done = _run(1, "--config", TINY, "--data", data, "--out_dir", out, "--attention", "document", "--max_steps", "8", "--eval_every", "4")
    assert "document attention" in done.stdout
    with open(os.path.join(out, "log.jsonl")) as f:
        records = [json.loads(line) for line in f]
    losses = [r["loss"] for r in records if "loss" in r]
    assert len(losses) == 8 and losses[-1] < losses[0]
    bad = _run(1, "--config", TINY, "--data", data, "--out_dir", out, "--attention", "sliding", check=False)
    assert bad.returncode == 2 and bad.stderr.startswith("config error: attention: must be one of causal, document")
