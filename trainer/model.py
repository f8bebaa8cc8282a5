"""A modern GPT: pre-norm blocks of RMSNorm, RoPE attention and a SwiGLU MLP, all bias-free.

The block is the one in shared/bench/gpu_reference.py (the throughput anchor on the GPUs we are
lent), so an MFU comparison against it is like for like. Nothing here knows about devices or
ranks: the trainer builds the model on the "meta" device (no memory, no random numbers), gives
it storage with `to_empty` and then calls `init_weights()`, which is why every tensor that is not
a parameter (the RoPE tables) is a non-persistent buffer that `init_weights` rebuilds.
"""

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.attention.flex_attention import BlockMask

from trainer.attention import ATTENTION, attend, attention_mask


def swiglu_hidden(d_model: int) -> int:
    """8/3 * d (SwiGLU's three matrices then cost what a 4d GELU MLP's two do) rounded up to a
    multiple of 64, written exactly as the reference does: int(x + 1) adds a full 64 when
    8d/3 already is a multiple of 64 (d = 768 gives 2112, not 2048)."""
    return int(8 * d_model / 3 / 64 + 1) * 64


@dataclass(frozen=True)
class ModelConfig:
    vocab_size: int
    n_layer: int
    n_head: int
    d_model: int
    seq_len: int  # RoPE tables are built for this many positions
    tie_embeddings: bool = False
    rope_base: float = 10000.0
    norm_eps: float = 1e-5
    ffn_hidden: int | None = None  # None: swiglu_hidden(d_model); resolved on construction
    attention: str = "causal"  # or "document": attend only within one's own document (trainer.attention)
    eod_id: int | None = None  # the end-of-document id that separates documents; needed by "document"

    def __post_init__(self):
        for name in ("vocab_size", "n_layer", "n_head", "d_model", "seq_len"):
            if getattr(self, name) < 1:
                raise ValueError(f"ModelConfig.{name} must be >= 1, got {getattr(self, name)}")
        if self.d_model % self.n_head or (self.d_model // self.n_head) % 2:
            raise ValueError(f"d_model {self.d_model} must split into {self.n_head} heads of even size (RoPE rotates pairs)")
        if self.attention not in ATTENTION:
            raise ValueError(f"attention must be one of {', '.join(ATTENTION)}, got {self.attention!r}")
        if self.attention == "document" and self.eod_id is None:
            raise ValueError("attention 'document' needs the end-of-document id (eod_id)")
        if self.ffn_hidden is None:  # resolved here so that equal models have equal configs
            object.__setattr__(self, "ffn_hidden", swiglu_hidden(self.d_model))

    @property
    def head_dim(self) -> int:
        return self.d_model // self.n_head


# Names are nominal, after the GPT-3 paper's shapes for 125m..1b (whose counts include a tied
# 50k-token embedding); the exact count depends on the vocabulary and tying: see param_count.
PRESETS: dict[str, dict] = {
    "tiny": {"n_layer": 4, "n_head": 4, "d_model": 64},  # ~0.25M with a 256-token vocabulary: CPU tests
    "10m": {"n_layer": 6, "n_head": 6, "d_model": 384},
    "50m": {"n_layer": 8, "n_head": 8, "d_model": 512},
    "125m": {"n_layer": 12, "n_head": 12, "d_model": 768},
    "350m": {"n_layer": 24, "n_head": 16, "d_model": 1024},
    "760m": {"n_layer": 24, "n_head": 16, "d_model": 1536},
    "1b": {"n_layer": 24, "n_head": 16, "d_model": 2048},
}


def model_config(preset: str, vocab_size: int, seq_len: int, **overrides) -> ModelConfig:
    if preset not in PRESETS:
        raise ValueError(f"unknown model preset {preset!r}; known: {', '.join(PRESETS)}")
    return ModelConfig(vocab_size=vocab_size, seq_len=seq_len, **{**PRESETS[preset], **overrides})


def param_count(cfg: ModelConfig, exclude_embedding: bool = False) -> int:
    """GPT(cfg).num_params(exclude_embedding), by arithmetic: planning a 1B model needs no RAM."""
    d, h = cfg.d_model, cfg.ffn_hidden
    block = 4 * d * d + 3 * d * h + 2 * d  # qkv + out proj, w1 w3 w2, two norms
    embedding = 0 if exclude_embedding else cfg.vocab_size * d
    head = 0 if cfg.tie_embeddings else cfg.vocab_size * d  # tied: the head is the embedding
    return cfg.n_layer * block + d + embedding + head


def rope_tables(cfg: ModelConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """cos and sin of position * base^(-2i/hd), shaped [1, T, 1, hd/2] to broadcast over [B, T, H, hd/2].
    Computed in float64 on the CPU, then stored as float32: the same bits whatever the device."""
    hd = cfg.head_dim
    freqs = 1.0 / cfg.rope_base ** (torch.arange(0, hd, 2, dtype=torch.float64) / hd)
    angles = torch.outer(torch.arange(cfg.seq_len, dtype=torch.float64), freqs)[None, :, None, :]
    return angles.cos().float(), angles.sin().float()


def apply_rope(t: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate-half RoPE on [B, T, H, hd]: the pair (t1[i], t2[i]) turns by angle[pos, i]."""
    t1, t2 = t.chunk(2, dim=-1)
    c, s = cos.to(t.dtype), sin.to(t.dtype)
    return torch.cat([t1 * c - t2 * s, t2 * c + t1 * s], dim=-1)


class Block(nn.Module):
    """x + attn(RMSNorm(x)), then x + SwiGLU(RMSNorm(x)). One compile unit and one FSDP unit."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        d = cfg.d_model
        self.n_head = cfg.n_head
        self.attn_norm = nn.RMSNorm(d, eps=cfg.norm_eps)
        self.qkv = nn.Linear(d, 3 * d, bias=False)
        self.proj = nn.Linear(d, d, bias=False)  # attention output: a residual projection
        self.ffn_norm = nn.RMSNorm(d, eps=cfg.norm_eps)
        self.w1 = nn.Linear(d, cfg.ffn_hidden, bias=False)  # gate
        self.w3 = nn.Linear(d, cfg.ffn_hidden, bias=False)  # up
        self.w2 = nn.Linear(cfg.ffn_hidden, d, bias=False)  # down: a residual projection

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, mask: torch.Tensor | BlockMask | None = None) -> torch.Tensor:
        """mask: None for causal attention, else trainer.attention's document mask (one per forward, shared by the blocks)."""
        B, T, D = x.shape
        # One matmul for q, k, v; views, not copies, until RoPE writes q and k once.
        q, k, v = self.qkv(self.attn_norm(x)).view(B, T, 3, self.n_head, D // self.n_head).unbind(2)
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        y = attend(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), mask)
        x = x + self.proj(y.transpose(1, 2).reshape(B, T, D))
        h = self.ffn_norm(x)
        return x + self.w2(F.silu(self.w1(h)) * self.w3(h))


def lm_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy in float32 (a bf16 log-softmax over 32k+ classes loses the small
    probabilities). Compiled on its own (parallelize.py), the cast fuses into the log-softmax
    instead of materializing a float32 copy of the logits: B*T*V*4 bytes, 4 GiB at 32 x 1024 x 32k."""
    return F.cross_entropy(logits.float().view(-1, logits.size(-1)), targets.reshape(-1))


class GPT(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        self.loss_fn = lm_loss  # a plain function (no parameters): parallelize may swap in a compiled one
        self.flex: bool | None = None  # document masks: None picks FlexAttention on CUDA, SDPA elsewhere (trainer.attention)
        self.tok_emb = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layer))
        self.norm = nn.RMSNorm(cfg.d_model, eps=cfg.norm_eps)
        self.head = nn.Linear(cfg.d_model, cfg.vocab_size, bias=False)
        if cfg.tie_embeddings:
            self.head.weight = self.tok_emb.weight
        # Not in the state dict: derived from cfg, rebuilt by init_weights (also after to_empty).
        shape = (1, cfg.seq_len, 1, cfg.head_dim // 2)
        self.register_buffer("rope_cos", torch.empty(shape), persistent=False)
        self.register_buffer("rope_sin", torch.empty(shape), persistent=False)
        if self.tok_emb.weight.device.type != "meta":
            self.init_weights()

    @torch.no_grad()
    def init_weights(self) -> None:
        """GPT-2's scheme: N(0, 0.02) everywhere, and the two projections that write into the
        residual stream per block scaled by 1/sqrt(2 * n_layer), so the stream's variance at the
        top does not grow with depth. RMSNorm gains 1. Rebuilds the RoPE tables, and re-ties the
        head to the embedding, which `to_empty` unties (it gives each module a new tensor)."""
        if self.cfg.tie_embeddings and self.head.weight is not self.tok_emb.weight:
            self.head.weight = self.tok_emb.weight
        std, resid_std = 0.02, 0.02 / math.sqrt(2 * self.cfg.n_layer)
        nn.init.normal_(self.tok_emb.weight, 0.0, std)
        for block in self.blocks:
            for linear in (block.qkv, block.w1, block.w3):
                nn.init.normal_(linear.weight, 0.0, std)
            for linear in (block.proj, block.w2):
                nn.init.normal_(linear.weight, 0.0, resid_std)
            block.attn_norm.reset_parameters()
            block.ffn_norm.reset_parameters()
        self.norm.reset_parameters()
        if not self.cfg.tie_embeddings:
            nn.init.normal_(self.head.weight, 0.0, std)
        cos, sin = rope_tables(self.cfg)
        self.rope_cos.copy_(cos)
        self.rope_sin.copy_(sin)

    def forward(self, idx: torch.Tensor, targets: torch.Tensor | None = None) -> torch.Tensor:
        """Logits [B, T, V] without targets; with them, the mean cross-entropy over all B*T
        positions, in float32 (lm_loss)."""
        T = idx.size(1)
        if T > self.cfg.seq_len:
            raise ValueError(f"sequence of {T} tokens is longer than the model's seq_len {self.cfg.seq_len}")
        cos, sin = self.rope_cos[:, :T], self.rope_sin[:, :T]
        mask = attention_mask(idx, self.cfg.eod_id, self.flex) if self.cfg.attention == "document" else None
        x = self.tok_emb(idx)
        for block in self.blocks:
            x = block(x, cos, sin, mask)
        logits = self.head(self.norm(x))
        if targets is None:
            return logits
        return self.loss_fn(logits, targets)

    def num_params(self, exclude_embedding: bool = False) -> int:
        """Parameters, a tied matrix counted once; exclude_embedding leaves out the input table
        (and so, when tied, the head it also is)."""
        n = sum(p.numel() for p in self.parameters())
        return n - self.tok_emb.weight.numel() if exclude_embedding else n
