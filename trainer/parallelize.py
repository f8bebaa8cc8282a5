"""Activation checkpointing, torch.compile and FSDP2 for trainer.model.GPT, in torchtitan's order.

    model = parallelize(model, mesh, mixed_precision=True, activation_checkpointing=False, compile=True)

1. activation checkpointing wraps each block (its activations are recomputed in the backward);
2. torch.compile compiles each block (one graph per block: all blocks share it, compile time
   does not grow with depth, and FSDP's hooks stay outside the graphs), and the loss;
3. fully_shard shards each block as one FSDP unit (its parameters are all-gathered just before
   its forward and backward and freed after), then the root, whose unit holds what is left: the
   embedding, the final norm and the head (one unit, so tied embeddings stay one parameter).

On CUDA the policy is bf16 parameters and activations with fp32 gradient reduction; on CPU
(gloo, the tests) everything is fp32. The mesh is 1-D over all ranks; one rank is a mesh of one.
"""

import torch
import torch.distributed as dist
from torch import nn
from torch.distributed.algorithms._checkpoint.checkpoint_wrapper import (
    checkpoint_wrapper,
)
from torch.distributed.device_mesh import DeviceMesh
from torch.distributed.fsdp import FSDPModule, MixedPrecisionPolicy, fully_shard


def parallelize(model: nn.Module, mesh: DeviceMesh, *, mixed_precision: bool, activation_checkpointing: bool, compile: bool) -> nn.Module:
    for i, block in enumerate(model.blocks):
        if activation_checkpointing:
            block = checkpoint_wrapper(block, preserve_rng_state=False)  # no dropout: no RNG to replay
        if compile:
            block = torch.compile(block, fullgraph=True)
        model.blocks[i] = block  # state-dict names gain _checkpoint_wrapped_module/_orig_mod; DCP strips them
    if compile:
        # The loss too: eager, its float32 cast of the logits cost 15% of the step and 18 GB at
        # 125M, B=64 on an H200 (blocks compiled, loss eager vs the whole model compiled).
        model.loss_fn = torch.compile(model.loss_fn)

    on_gpu = mesh.device_type == "cuda"
    if mixed_precision and on_gpu:
        policy = MixedPrecisionPolicy(param_dtype=torch.bfloat16, reduce_dtype=torch.float32)
    else:
        policy = MixedPrecisionPolicy()  # fp32 throughout
    last = len(model.blocks) - 1
    for i, block in enumerate(model.blocks):
        # The last block's parameters would be all-gathered again at once by the backward: keep them.
        fully_shard(block, mesh=mesh, mp_policy=policy, reshard_after_forward=i < last)
    fully_shard(model, mesh=mesh, mp_policy=policy)

    if mesh.size() > 1 and dist.get_backend(mesh.get_group()) == "gloo" and not gloo_average_is_mean(mesh):
        force_mean_gradients(model)
    return model


def gloo_average_is_mean(mesh: DeviceMesh) -> bool:
    """Whether gloo's ReduceOp.AVG reduce-scatter averages (FSDP2 uses AVG for fp32 gradients).

    pytorch issue 162338 ("Incorrect AVG reduction for GLOO") reported FSDP2 gradients over
    gloo coming out as the SUM over ranks, N times the single-process gradient. Measured with
    the torch installed here (2.13.0+cpu, 2 ranks): reduce_scatter_tensor(AVG) of 1*[1,2,3,4] and
    2*[1,2,3,4] gives [1.5, 3.0] and [4.5, 6.0] (the mean), all_reduce(AVG) of 1 and 2 gives 1.5,
    and FSDP2 gradients of the issue's 3-layer MLP and of the tiny GPT (tests/trainer/test_train.py,
    gradient parity) equal a single process's: norm ratio 2-rank/1-process 1.0000000 for every
    parameter (a sum would be 2), largest difference 7e-7 of the tensor's largest entry (fp32
    summation order). So this torch averages. Other versions in pyproject's range may not: this
    asks gloo once (two floats) instead of trusting it, and force_mean_gradients is checked to
    give the same gradients (forced on, the parity test's tolerances hold as well).
    """
    group = mesh.get_group()
    rank, world = dist.get_rank(group), dist.get_world_size(group)
    send = torch.full((world,), float(rank + 1))
    out = torch.empty(1)
    reduce_scatter = getattr(dist, "reduce_scatter_single", None) or dist.reduce_scatter_tensor  # FSDP2's call, by version
    reduce_scatter(out, send, op=dist.ReduceOp.AVG, group=group)
    return abs(out.item() - (world + 1) / 2) < 1e-6


def force_mean_gradients(model: nn.Module) -> None:
    """Make every FSDP unit reduce with SUM and then divide by the world size itself, so that
    gradients are the mean over ranks whatever gloo's AVG does."""
    for module in model.modules():
        if isinstance(module, FSDPModule):
            if not hasattr(module, "set_force_sum_reduction_for_comms"):  # not in every FSDP2 version
                raise RuntimeError(
                    "gloo's AVG does not average here and this torch's FSDP2 cannot be told to SUM and divide: "
                    "use a newer torch (2.13 has it) for multi-rank CPU runs"
                )
            module.set_force_sum_reduction_for_comms(True)
