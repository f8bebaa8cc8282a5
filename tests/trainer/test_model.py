"""The GPT: shapes, the loss at init, causality, tying, GPT-2 init, meta-device build, param_count."""

import math

import pytest
import torch

from trainer.model import (
    GPT,
    PRESETS,
    ModelConfig,
    apply_rope,
    model_config,
    param_count,
    rope_tables,
)

V, T = 256, 32


@pytest.fixture(scope="module")
def tiny() -> GPT:
    torch.manual_seed(0)
    return GPT(model_config("tiny", V, T)).eval()


def test_shapes_and_loss_at_init_is_uniform(tiny):
    idx = torch.randint(0, V, (3, T))
    assert tiny(idx).shape == (3, T, V)
    assert tiny(idx[:, :7]).shape == (3, 7, V)  # shorter than seq_len: the RoPE tables are sliced
    loss = tiny(idx, torch.randint(0, V, (3, T)))
    assert loss.dim() == 0 and loss.dtype == torch.float32
    assert loss.item() == pytest.approx(math.log(V), rel=0.1)


def test_loss_is_float32_mean_cross_entropy_under_bf16(tiny):
    idx, tgt = torch.randint(0, V, (2, T)), torch.randint(0, V, (2, T))
    with torch.autocast("cpu", torch.bfloat16):
        logits, loss = tiny(idx), tiny(idx, tgt)
    assert logits.dtype == torch.bfloat16 and loss.dtype == torch.float32
    expected = torch.nn.functional.cross_entropy(logits.float().reshape(-1, V), tgt.reshape(-1))
    assert loss.item() == pytest.approx(expected.item(), rel=1e-5)


def test_longer_than_seq_len_is_refused(tiny):
    with pytest.raises(ValueError, match="seq_len 32"):
        tiny(torch.zeros(1, T + 1, dtype=torch.long))


def test_causal(tiny):
    idx = torch.randint(0, V, (1, T))
    t = 20
    changed = idx.clone()
    changed[0, t] = (idx[0, t] + 1) % V
    with torch.no_grad():
        a, b = tiny(idx), tiny(changed)
    assert torch.equal(a[0, :t], b[0, :t])
    assert not torch.allclose(a[0, t:], b[0, t:])


def test_tied_embeddings_share_storage_and_count_once():
    untied = GPT(model_config("tiny", V, T))
    tied = GPT(model_config("tiny", V, T, tie_embeddings=True))
    assert tied.head.weight is tied.tok_emb.weight
    assert tied.head.weight.data_ptr() == tied.tok_emb.weight.data_ptr()
    assert "head.weight" not in dict(tied.named_parameters())  # one parameter, listed once
    assert tied.num_params() == untied.num_params() - V * 64
    assert tied.num_params(exclude_embedding=True) == untied.num_params(exclude_embedding=True) - V * 64
    assert torch.isfinite(tied(torch.randint(0, V, (2, T)), torch.randint(0, V, (2, T))))


def test_gpt2_init_scales_residual_projections():
    torch.manual_seed(0)
    model = GPT(ModelConfig(vocab_size=V, n_layer=8, n_head=4, d_model=256, seq_len=T))
    block = model.blocks[3]
    resid = 0.02 / math.sqrt(2 * 8)
    for weight, std in [
        (block.proj.weight, resid),
        (block.w2.weight, resid),
        (block.qkv.weight, 0.02),
        (block.w1.weight, 0.02),
        (model.tok_emb.weight, 0.02),
        (model.head.weight, 0.02),
    ]:
        assert weight.mean().abs().item() < 3 * std / math.sqrt(weight.numel()) + 1e-6
        assert weight.std().item() == pytest.approx(std, rel=0.03)  # 65k+ samples: ~0.3% noise
    assert torch.equal(block.attn_norm.weight, torch.ones(256)) and torch.equal(model.norm.weight, torch.ones(256))


@pytest.mark.parametrize("tie", [False, True])
def test_meta_build_then_to_empty_and_init_weights(tie):
    cfg = model_config("tiny", V, T, tie_embeddings=tie)
    with torch.device("meta"):
        model = GPT(cfg)
    assert model.tok_emb.weight.is_meta and model.rope_cos.is_meta
    model.to_empty(device="cpu")
    model.init_weights()  # to_empty untied the head: init_weights ties it again
    assert (model.head.weight is model.tok_emb.weight) == tie and model.num_params() == param_count(cfg)
    normal = GPT(cfg)
    assert torch.equal(model.rope_cos, normal.rope_cos) and torch.equal(model.rope_sin, normal.rope_sin)
    assert "rope_cos" not in model.state_dict()  # derived, never checkpointed
    assert model.blocks[0].w2.weight.std().item() == pytest.approx(0.02 / math.sqrt(8), rel=0.1)
    loss = model(torch.randint(0, V, (2, T)), torch.randint(0, V, (2, T)))
    assert torch.isfinite(loss) and loss.item() == pytest.approx(math.log(V), rel=0.1)


def test_rope_tables_rotate_by_position():
    cfg = model_config("tiny", V, T)
    cos, sin = rope_tables(cfg)
    assert cos.shape == (1, T, 1, cfg.head_dim // 2) and cos.dtype == torch.float32
    assert torch.equal(cos[0, 0], torch.ones_like(cos[0, 0])) and torch.equal(sin[0, 0], torch.zeros_like(sin[0, 0]))
    assert torch.allclose(cos**2 + sin**2, torch.ones(()), atol=1e-6)
    # Attention scores depend on relative positions only: q at p, k at p - 3 gives the same dot product for any p.
    q, k = torch.randn(1, 1, 1, cfg.head_dim), torch.randn(1, 1, 1, cfg.head_dim)
    dots = [
        (apply_rope(q, cos[:, p : p + 1], sin[:, p : p + 1]) * apply_rope(k, cos[:, p - 3 : p - 2], sin[:, p - 3 : p - 2])).sum() for p in (3, 10, 30)
    ]
    assert torch.allclose(torch.stack(dots), dots[0].expand(3), atol=1e-5)


@pytest.mark.parametrize("preset", list(PRESETS))
@pytest.mark.parametrize("tie", [False, True])
def test_param_count_matches_the_built_model(preset, tie):
    cfg = model_config(preset, 32_000, 2048, tie_embeddings=tie)
    with torch.device("meta"):  # 1B parameters cost nothing here
        model = GPT(cfg)
    assert param_count(cfg) == model.num_params()
    assert param_count(cfg, exclude_embedding=True) == model.num_params(exclude_embedding=True)


def test_presets():
    assert PRESETS["125m"] == {"n_layer": 12, "n_head": 12, "d_model": 768}
    assert PRESETS["350m"] == {"n_layer": 24, "n_head": 16, "d_model": 1024}
    assert 100_000 < param_count(model_config("tiny", V, T)) < 1_000_000
    cfg = model_config("125m", 50_257, 1024, ffn_hidden=3072)
    assert cfg.ffn_hidden == 3072 and model_config("125m", 50_257, 1024).ffn_hidden == 2112  # the reference's int(8d/3/64 + 1) * 64
    with pytest.raises(ValueError, match="known: tiny, 10m"):
        model_config("7b", V, T)
    with pytest.raises(ValueError, match="heads of even size"):
        ModelConfig(vocab_size=V, n_layer=1, n_head=5, d_model=64, seq_len=T)


def test_a_few_steps_learn_a_repeated_sequence():
    torch.manual_seed(0)
    model = GPT(model_config("tiny", V, T))
    seq = torch.randint(0, V, (1, T + 1)).repeat(4, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.2, momentum=0.9)
    losses = []
    for _ in range(30):
        loss = model(seq[:, :-1], seq[:, 1:])
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)  # as the trainer does; plain SGD spikes without it
        opt.step()
        opt.zero_grad()
        losses.append(loss.item())
    assert losses[0] == pytest.approx(math.log(V), rel=0.1) and losses[-1] < 1.0


@pytest.mark.skipif(not hasattr(torch, "compile"), reason="torch.compile unavailable")
def test_block_compiles_without_graph_breaks():
    """fullgraph=True raises on any graph break. aot_eager traces forward and backward as
    inductor would but skips its C++ code generation (~20 s on CPU); GPUs run inductor."""
    torch._dynamo.reset()
    model = GPT(model_config("tiny", V, T))
    block = model.blocks[0]
    compiled = torch.compile(block, fullgraph=True, backend="aot_eager")
    x = torch.randn(2, 16, 64, requires_grad=True)
    cos, sin = model.rope_cos[:, :16], model.rope_sin[:, :16]
    y = compiled(x, cos, sin)
    y.sum().backward()
    assert torch.allclose(y, block(x, cos, sin), atol=1e-6) and x.grad is not None
