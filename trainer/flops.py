"""Training FLOPs per token, GPU peaks and MFU, in the convention of the PaLM paper.

Model FLOPs utilisation (PaLM, Chowdhery et al. 2022, appendix B) counts the FLOPs the model
needs, not the ones the hardware did: activation recomputation is not counted, and neither is
the half of the attention matrix a causal mask skips. Per token of training:

    6 * N                        every weight does one multiply-add (2 FLOPs) per token in the
                                 forward pass and two in the backward (input and weight grads);
                                 N is every parameter except the input embedding table (a lookup,
                                 not a matmul), and counts the output head, even when it is tied
                                 to that table: the V x d matmul is done either way.
    + 12 * n_layer * d * T       attention scores Q K^T and the weighted sum A V: 2 matmuls of
                                 2*d*T FLOPs per token forward, times 3 for forward + backward.

This is also the formula of shared/bench/gpu_reference.py, so MFUs compare directly.
"""

from trainer.model import ModelConfig, param_count

# Dense (no sparsity) bf16 tensor-core peaks, FLOP/s, from NVIDIA's datasheets.
PEAK_BF16_FLOPS: dict[str, float] = {
    "H100 SXM": 989e12,
    "H100 PCIe": 756e12,
    "H100 NVL": 835e12,
    "H200": 989e12,  # H100 SXM's compute with more, faster memory
    "A100": 312e12,  # SXM and PCIe alike
}


def flops_per_token(cfg: ModelConfig, seq_len: int) -> float:
    n = param_count(cfg, exclude_embedding=True)
    if cfg.tie_embeddings:
        n += cfg.vocab_size * cfg.d_model  # the head's matmul, whose weight is the embedding
    return 6.0 * n + 12.0 * cfg.n_layer * cfg.d_model * seq_len


def peak_flops(device_name: str) -> float | None:
    """Peak for a torch.cuda.get_device_name() ("NVIDIA H100 80GB HBM3", "NVIDIA H100 PCIe",
    "NVIDIA H200", "NVIDIA A100-SXM4-80GB") or a short name ("H100"); None for anything else."""
    name = device_name.upper()
    if "H200" in name:
        return PEAK_BF16_FLOPS["H200"]
    if "H100" in name:
        if "PCIE" in name:
            return PEAK_BF16_FLOPS["H100 PCIe"]
        return PEAK_BF16_FLOPS["H100 NVL" if "NVL" in name else "H100 SXM"]
    if "A100" in name:
        return PEAK_BF16_FLOPS["A100"]
    return None


def mfu(tokens_per_second: float, flops_per_token: float, peak: float) -> float:
    """Achieved model FLOP/s over peak; peak is the sum over all GPUs the tokens came from."""
    return tokens_per_second * flops_per_token / peak
