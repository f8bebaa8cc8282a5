"""The trainer's settings: one flat dataclass, read from a TOML file and overridden on the command line.

    python -m trainer.train --config trainer/configs/tiny.toml --lr 3e-4 --max_steps 100 --resume

Every field is a TOML key and a `--key value` option (a bare `--flag` sets a bool to true). An
unknown key or a value of the wrong type exits with status 2 and one line naming the key.
"""

import json
import sys
import tomllib
import types
import typing
from dataclasses import asdict, dataclass


@dataclass
class TrainConfig:
    # data and output
    data: str = ""  # the pipeline's tokens/manifest.json (required)
    out_dir: str = "runs/default"  # log.jsonl and checkpoints/ go here
    source_weights: dict[str, float] | None = None  # per-source sampling weights (None: the manifest's mixture)
    val_fraction: float = 0.01  # share of windows held out for validation (0: no validation)
    # model: a preset of trainer.model.PRESETS; n_layer/n_head/d_model override it when > 0
    preset: str = "125m"
    n_layer: int = 0
    n_head: int = 0
    d_model: int = 0
    tie_embeddings: bool = False
    seq_len: int = 1024
    # batch: global_batch sequences per optimizer step = micro_batch * ranks * gradient accumulation
    micro_batch: int = 8
    global_batch: int = 0  # 0: micro_batch * ranks (no accumulation)
    # optimizer (AdamW) and schedule (linear warmup, then cosine to min_lr_ratio * lr at max_steps)
    lr: float = 6e-4
    min_lr_ratio: float = 0.1
    warmup_steps: int = 100
    max_steps: int = 1000
    weight_decay: float = 0.1
    betas: tuple[float, float] = (0.9, 0.95)
    eps: float = 1e-8
    grad_clip: float = 1.0  # max global grad norm (0: no clipping, the norm is still logged)
    # evaluation, logging, checkpoints
    eval_every: int = 200  # steps between validation losses (0: never)
    eval_batches: int = 10  # micro batches per rank in one validation
    log_every: int = 10
    checkpoint_every: int = 500  # steps between checkpoints (0: only the final one)
    keep_checkpoints: int = 2  # newest complete checkpoints kept
    resume: bool = False  # continue from out_dir's latest checkpoint (fresh start if there is none)
    # execution
    seed: int = 0
    mixed_precision: bool = True  # bf16 parameters/activations, fp32 reductions (GPU only; CPU is fp32)
    compile: bool = False  # torch.compile each block
    activation_checkpointing: bool = False  # recompute each block's activations in the backward
    # debugging: after the first optimizer-step's backward, write the full gradients here (rank 0) and stop
    dump_grads: str = ""

    def grad_accum(self, world_size: int) -> int:
        """Micro steps per optimizer step; a global batch that does not split evenly is an error."""
        per_pass = self.micro_batch * world_size
        global_batch = self.global_batch or per_pass
        if global_batch % per_pass:
            raise ValueError(
                f"global_batch {global_batch} is not a multiple of micro_batch {self.micro_batch} x "
                f"{world_size} ranks = {per_pass}: pick a global_batch in steps of {per_pass}"
            )
        return global_batch // per_pass

    def validate(self) -> None:
        if not self.data:
            raise ConfigError("data: required (the pipeline's tokens/manifest.json)")
        for name in ("seq_len", "micro_batch", "max_steps", "log_every", "keep_checkpoints"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name}: must be >= 1, got {getattr(self, name)}")
        for name in ("global_batch", "warmup_steps", "eval_every", "eval_batches", "checkpoint_every",
                     "n_layer", "n_head", "d_model", "grad_clip", "weight_decay"):
            if getattr(self, name) < 0:
                raise ConfigError(f"{name}: must be >= 0, got {getattr(self, name)}")
        if not 0.0 <= self.val_fraction < 1.0:
            raise ConfigError(f"val_fraction: must be in [0, 1), got {self.val_fraction}")
        if not 0.0 <= self.min_lr_ratio <= 1.0:
            raise ConfigError(f"min_lr_ratio: must be in [0, 1], got {self.min_lr_ratio}")

    def to_dict(self) -> dict:
        return asdict(self)


class ConfigError(ValueError):
    """A bad key or value; the message starts with the key's name."""


_TRUE, _FALSE = {"true", "1", "yes", "on"}, {"false", "0", "no", "off"}


def _hints() -> dict[str, object]:
    return typing.get_type_hints(TrainConfig)


def _coerce(key: str, kind, value, from_cli: bool):
    """value (a TOML value, or a CLI string) as `kind`, or ConfigError naming key."""
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (typing.Union, types.UnionType):  # X | None
        if value is None or (from_cli and str(value).lower() in ("none", "null")):
            return None
        kind = next(a for a in args if a is not type(None))
        origin, args = typing.get_origin(kind), typing.get_args(kind)
    bad = ConfigError(f"{key}: expected {_describe(kind)}, got {value!r}")
    if kind is bool:
        if isinstance(value, bool):
            return value
        if from_cli and str(value).lower() in _TRUE | _FALSE:
            return str(value).lower() in _TRUE
        raise bad
    if kind in (int, float):
        if isinstance(value, bool):
            raise bad
        if isinstance(value, int) or (kind is float and isinstance(value, float)):
            return kind(value)
        if from_cli:
            try:
                return kind(value)
            except ValueError:
                raise bad from None
        raise bad
    if kind is str:
        if isinstance(value, str):
            return value
        raise bad
    if origin is tuple:  # betas: [0.9, 0.95] in TOML, "0.9,0.95" on the command line
        if from_cli:
            value = [v for v in str(value).strip("[]() ").split(",") if v.strip()]
        if not isinstance(value, (list, tuple)) or len(value) != len(args):
            raise bad
        return tuple(_coerce(key, a, v, from_cli) for a, v in zip(args, value))
    if origin is dict:  # source_weights: a TOML table, or JSON / "web=0.7,books=0.3" on the command line
        if from_cli:
            text = str(value)
            try:
                value = json.loads(text) if text.lstrip().startswith("{") else dict(
                    part.split("=", 1) for part in text.split(",") if part.strip())
            except ValueError:
                raise bad from None
        if not isinstance(value, dict):
            raise bad
        return {_coerce(key, args[0], k, from_cli): _coerce(key, args[1], v, from_cli) for k, v in value.items()}
    raise bad


def _describe(kind) -> str:
    return getattr(kind, "__name__", str(kind)) if typing.get_origin(kind) is None else str(kind)


def _split_cli(argv: list[str]) -> tuple[str | None, list[tuple[str, str]]]:
    """['--config', 'x.toml', '--lr', '3e-4', '--resume'] -> ('x.toml', [('lr', '3e-4'), ('resume', 'true')])."""
    config_path, pairs, i = None, [], 0
    hints = _hints()
    while i < len(argv):
        arg = argv[i]
        if not arg.startswith("--"):
            raise ConfigError(f"{arg}: expected --key value")
        key, _, inline = arg[2:].partition("=")
        key = key.replace("-", "_")
        if inline:
            value, i = inline, i + 1
        elif hints.get(key) is bool and (i + 1 == len(argv) or argv[i + 1].startswith("--")):
            value, i = "true", i + 1  # a bare --resume
        elif i + 1 < len(argv):
            value, i = argv[i + 1], i + 2
        else:
            raise ConfigError(f"{key}: missing value")
        if key == "config":
            config_path = value
        else:
            pairs.append((key, value))
    return config_path, pairs


def load_config(argv: list[str]) -> TrainConfig:
    """TrainConfig from `--config file.toml` (optional) and `--key value` overrides; ConfigError if bad."""
    config_path, pairs = _split_cli(argv)
    hints = _hints()
    values: dict[str, object] = {}
    if config_path is not None:
        try:
            with open(config_path, "rb") as f:
                table = tomllib.load(f)
        except (OSError, tomllib.TOMLDecodeError) as e:
            raise ConfigError(f"config: cannot read {config_path}: {e}") from None
        for key, value in table.items():
            if key not in hints:
                raise ConfigError(f"{key}: unknown key in {config_path}")
            values[key] = _coerce(key, hints[key], value, from_cli=False)
    for key, value in pairs:
        if key not in hints:
            raise ConfigError(f"{key}: unknown option --{key}")
        values[key] = _coerce(key, hints[key], value, from_cli=True)
    cfg = TrainConfig(**values)
    cfg.validate()
    return cfg


def parse_or_exit(argv: list[str]) -> TrainConfig:
    """load_config, or one line on stderr and exit status 2 (like argparse)."""
    try:
        return load_config(argv)
    except ConfigError as e:
        print(f"config error: {e}", file=sys.stderr)
        raise SystemExit(2) from None
