"""Which earlier tokens a token attends to: every one of its window ("causal") or only those of its
own document ("document").

The data stream packs documents back to back, each ending with the end-of-document id
(trainer.data), so a window of seq_len tokens may hold several. Under "document", token t of a
window attends to token s iff s <= t and both are in the same document: the end-of-document token
belongs to the document it ends, and the token after it starts a new one (a window that starts
inside a document treats that part as a document of its own).

Two implementations of the same mask, chosen by device:
- CUDA: FlexAttention (torch.nn.attention.flex_attention) with a BlockMask built once per forward
  and shared by every block. Blocks of the score matrix wholly outside the mask are skipped, so
  attention gets cheaper as documents get shorter. flex_attention is compiled (eager it is an
  unfused reference implementation).
- CPU: scaled_dot_product_attention with an explicit boolean mask [B, 1, T, T]. FlexAttention runs
  on CPU too, but eagerly only as that reference (with a warning) and compiled after ~20 s of
  compilation per shape on the 2-core test machine; the tests check both give the same outputs.

Positions are not restarted at each document. RoPE makes the score of query position t against
key position s a function of t - s only; under document masking every pair that attends lies in
one document, where t - s is the same with or without a restart. So a restart would compute the
same function and change only the rounding; a test checks that a document's logits do not
depend on where in the window it starts. (Under "causal" a restart would change the function:
tokens attend across documents there.)

FLOPs: trainer.flops counts the attention of the full causal window either way (PaLM's MFU counts
the model's FLOPs, not what a kernel skips), so MFUs with and without masking compare directly.
"""

import functools

import torch
import torch.nn.functional as F
from torch.nn.attention.flex_attention import (
    BlockMask,
    create_block_mask,
    flex_attention,
)

ATTENTION = ("causal", "document")


@functools.cache
def _compiled_flex():
    return torch.compile(flex_attention)


def document_ids(idx: torch.Tensor, eod_id: int) -> torch.Tensor:
    """[B, T] int: the index within its window of the document each token belongs to."""
    is_eod = (idx == eod_id).int()
    return torch.cumsum(is_eod, dim=1) - is_eod  # an eod closes its own document: count the eods strictly before


def dense_mask(doc: torch.Tensor) -> torch.Tensor:
    """[B, 1, T, T] bool, True where query t may attend key s: s <= t in the same document."""
    T = doc.size(1)
    causal = torch.ones(T, T, dtype=torch.bool, device=doc.device).tril()
    return (causal & (doc[:, :, None] == doc[:, None, :]))[:, None]


def block_mask(doc: torch.Tensor) -> BlockMask:
    def same_document_causal(b, h, q, k):
        return (k <= q) & (doc[b, q] == doc[b, k])

    B, T = doc.shape
    return create_block_mask(same_document_causal, B, None, T, T, device=doc.device)


def attention_mask(idx: torch.Tensor, eod_id: int, flex: bool | None = None) -> torch.Tensor | BlockMask:
    """The document mask for a batch of windows: a BlockMask for FlexAttention (the default on
    CUDA; flex=True forces it, for the tests) or a dense boolean mask for SDPA."""
    doc = document_ids(idx, eod_id)
    return block_mask(doc) if (idx.is_cuda if flex is None else flex) else dense_mask(doc)


def attend(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | BlockMask | None) -> torch.Tensor:
    """Attention over [B, H, T, hd]: causal when mask is None, else restricted by the mask."""
    if mask is None:
        return F.scaled_dot_product_attention(q, k, v, is_causal=True)
    if isinstance(mask, BlockMask):
        # Contiguous copies: with torch 2.13's CPU inductor, a compiled block that fed flex_attention the RoPE-rotated
        # q and k as transposed views got attention off by up to 9.6 (dense SDPA: 0 difference after the copies);
        # the copies cost a [B, H, T, hd] write each, small next to the attention.
        q, k, v = q.contiguous(), k.contiguous(), v.contiguous()
        if torch.compiler.is_compiling() or not q.is_cuda:  # inside a compiled block, dynamo compiles it with the block
            return flex_attention(q, k, v, block_mask=mask)
        return _compiled_flex()(q, k, v, block_mask=mask)
    return F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
