"""The trainer's settings: one flat dataclass, read from a TOML file and overridden on the command line.

    python -m trainer.train --config trainer/configs/tiny.toml --lr 3e-4 --max_steps 100 --resume

Every field is a TOML key and a `--key value` option (a bare `--flag` sets a bool to true). An
unknown key or a value of the wrong type exits with status 2 and one line naming the key.
"""

import json
import os
import sys
import tomllib
import types
import typing
from dataclasses import MISSING, asdict, dataclass, field, fields

from trainer.attention import ATTENTION
from trainer.model import PRESETS, model_config


def opt(default, help: str):
    """A field and its one-line description: `--help` prints it, so it is the only place an option is explained."""
    return field(default=default, metadata={"help": help})


# --help prints a heading before the field it names.
SECTIONS = {
    "data": "data and output",
    "preset": "model",
    "micro_batch": "batch: global_batch sequences per optimizer step = micro_batch x ranks x gradient accumulation",
    "lr": "optimizer (AdamW) and schedule (linear warmup, then cosine to min_lr_ratio x lr at max_steps)",
    "eval_every": "evaluation, logging, checkpoints",
    "seed": "execution",
    "dump_grads": "debugging",
}


@dataclass
class TrainConfig:
    data: str = opt("", "the pipeline's tokens/manifest.json (required)")
    out_dir: str = opt("runs/default", "log.jsonl and checkpoints/ go here")
    source_weights: dict[str, float] | None = opt(None, "per-source sampling weights, web=2,books=0.5 (none: the manifest's mixture)")  # noqa: RUF009 (opt is a field())
    val_fraction: float = opt(0.01, "share of documents held out for validation (0: no validation)")
    preset: str = opt("125m", "model size, one of trainer.model.PRESETS (tiny, 10m, 50m, 125m, 350m, 760m, 1b)")
    n_layer: int = opt(0, "layers, overriding the preset's (0: the preset's)")
    n_head: int = opt(0, "attention heads, overriding the preset's (0: the preset's)")
    d_model: int = opt(0, "model width, overriding the preset's (0: the preset's)")
    tie_embeddings: bool = opt(False, "the output head shares the input embedding's matrix")
    seq_len: int = opt(1024, "tokens per training sequence")
    attention: str = opt("causal", "causal: a token attends to every earlier token of its window; document: only to those of its own document")
    micro_batch: int = opt(8, "sequences per rank per forward/backward")
    global_batch: int = opt(0, "sequences per optimizer step, fixed for the run (0: micro_batch x ranks; on --resume, the checkpoint's)")
    lr: float = opt(6e-4, "peak learning rate")
    min_lr_ratio: float = opt(0.1, "the cosine ends at min_lr_ratio x lr")
    warmup_steps: int = opt(100, "optimizer steps of linear warmup from 0 to lr")
    max_steps: int = opt(1000, "optimizer steps in the run (the cosine reaches its floor here)")
    weight_decay: float = opt(0.1, "AdamW weight decay on matrices (none on norm gains)")
    betas: tuple[float, float] = opt((0.9, 0.95), "AdamW betas (beta1,beta2)")
    eps: float = opt(1e-8, "AdamW epsilon")
    grad_clip: float = opt(1.0, "max global gradient norm (0: no clipping; the norm is still logged)")
    eval_every: int = opt(200, "steps between validation losses (0: never)")
    eval_batches: int = opt(10, "global batches of the val split in one validation (the same windows on any number of ranks)")
    log_every: int = opt(10, "steps between log lines (log.jsonl and stdout)")
    checkpoint_every: int = opt(500, "steps between checkpoints (0: only the final one)")
    keep_checkpoints: int = opt(2, "newest complete checkpoints kept")
    resume: bool = opt(
        False, "continue from out_dir's newest complete checkpoint, on any number of ranks that split global_batch (an error if there is none)"
    )
    seed: int = opt(0, "seeds the weights' init and the data order")
    mixed_precision: bool = opt(True, "bf16 parameters/activations, fp32 reductions (GPU only; CPU is fp32)")
    compile: bool = opt(False, "torch.compile each block and the loss")
    activation_checkpointing: bool = opt(False, "recompute each block's activations in the backward")
    dump_grads: str = opt("", "after the first step's backward, write the full gradients to this file (rank 0) and stop")
    record_windows: str = opt("", "each rank appends the token windows it trains on, per step, to record_windows/rank-NNNNN.jsonl")

    def grad_accum(self, world_size: int, global_batch: int = 0) -> int:
        """Micro steps per optimizer step on world_size ranks, for global_batch (0: this config's).
        A global batch that does not split evenly is an error that says which world sizes work."""
        per_pass = self.micro_batch * world_size
        global_batch = global_batch or self.global_batch or per_pass
        if global_batch % per_pass:
            works = [w for w in range(1, global_batch // self.micro_batch + 1) if global_batch % (self.micro_batch * w) == 0]
            hint = (
                f"with micro_batch {self.micro_batch} it splits over {_or(works)} ranks"
                if works
                else f"micro_batch {self.micro_batch} does not divide it"
            )
            if global_batch % world_size == 0:
                hint += f"; on {world_size} ranks, pick a micro_batch that divides {global_batch // world_size}"
            raise ValueError(
                f"global_batch {global_batch} is not a multiple of micro_batch {self.micro_batch} x {world_size} ranks = {per_pass}: {hint}"
            )
        return global_batch // per_pass

    def validate(self) -> None:
        if self.preset not in PRESETS:
            raise ConfigError(f"preset: unknown preset {self.preset!r}; choose one of {', '.join(PRESETS)}")
        if not self.data:
            raise ConfigError("data: required (the pipeline's tokens/manifest.json)")
        for name in ("seq_len", "micro_batch", "max_steps", "log_every", "keep_checkpoints"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name}: must be >= 1, got {getattr(self, name)}")
        for name in (
            "global_batch",
            "warmup_steps",
            "eval_every",
            "eval_batches",
            "checkpoint_every",
            "n_layer",
            "n_head",
            "d_model",
            "grad_clip",
            "weight_decay",
        ):
            if getattr(self, name) < 0:
                raise ConfigError(f"{name}: must be >= 0, got {getattr(self, name)}")
        if not 0.0 <= self.val_fraction < 1.0:
            raise ConfigError(f"val_fraction: must be in [0, 1), got {self.val_fraction}")
        if not 0.0 <= self.min_lr_ratio <= 1.0:
            raise ConfigError(f"min_lr_ratio: must be in [0, 1], got {self.min_lr_ratio}")
        if self.attention not in ATTENTION:
            raise ConfigError(f"attention: must be one of {', '.join(ATTENTION)}, got {self.attention!r}")
        overrides = {k: getattr(self, k) for k in ("n_layer", "n_head", "d_model") if getattr(self, k)}
        try:  # the shape checks of the model itself (heads that split d_model evenly, ...), before any process starts
            model_config(self.preset, 1, self.seq_len, **overrides)
        except ValueError as e:
            raise ConfigError(f"model: {e}") from None

    def to_dict(self) -> dict:
        return asdict(self)


def _or(values: list[int]) -> str:
    return ", ".join(map(str, values[:-1])) + f" or {values[-1]}" if len(values) > 1 else str(values[0])


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
                value = json.loads(text) if text.lstrip().startswith("{") else dict(part.split("=", 1) for part in text.split(",") if part.strip())
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
        except OSError as e:
            raise ConfigError(f"config: cannot read {config_path}: {e.strerror or e}") from None
        except ValueError as e:  # tomllib.TOMLDecodeError, or bytes that are not UTF-8
            raise ConfigError(f"config: {config_path} is not valid TOML: {e}") from None
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


def _kind(kind) -> str:
    """How --help names an option's value."""
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (typing.Union, types.UnionType):
        return _kind(next(a for a in args if a is not type(None)))
    if origin is tuple:
        return ",".join(_kind(a) for a in args)
    if origin is dict:
        return "NAME=W,..."
    return {bool: "[BOOL]", int: "INT", float: "FLOAT", str: "STR"}.get(kind, str(kind))


def usage() -> str:
    """--help: every TrainConfig field with its value's kind, its default and its one line."""
    hints = _hints()
    lines = [
        "usage: python -m trainer.train [--config FILE.toml] [--KEY VALUE ...]",
        "       torchrun --nproc_per_node=N -m trainer.train [--config FILE.toml] [--KEY VALUE ...]",
        "",
        "Train a GPT on the pipeline's token shards with FSDP2. Every option is also a key of the --config TOML file;",
        "the command line overrides the file. A bare --flag sets a bool to true. A bad option stops with one line, status 2.",
        "",
        f"  {'--config FILE.toml':<34} a TOML file of the keys below",
    ]
    for f in fields(TrainConfig):
        if f.name in SECTIONS:
            lines += ["", SECTIONS[f.name] + ":"]
        default = f.default if f.default is not MISSING else f.default_factory()
        if default is None:
            shown = "none"
        elif isinstance(default, tuple):
            shown = ",".join(map(str, default))
        else:
            shown = json.dumps(default)  # "" shows as "", not as nothing; booleans as true/false, as TOML writes them
        option = f"--{f.name} {_kind(hints[f.name])}"
        lines.append(f"  {option:<34} {f.metadata['help']} (default: {shown})")
    return "\n".join(lines)


def wants_help(argv: list[str]) -> bool:
    return any(a in ("-h", "--help") for a in argv)


def parse_or_exit(argv: list[str]) -> TrainConfig:
    """load_config, or one line on stderr and exit status 2 (like argparse); --help prints usage() and exits 0."""
    first_on_node = os.environ.get("LOCAL_RANK", "0") == "0"  # under torchrun every rank parses: one copy per node
    if wants_help(argv):
        if first_on_node:
            print(usage())
        raise SystemExit(0)
    try:
        return load_config(argv)
    except ConfigError as e:
        if first_on_node:
            print(f"config error: {e}", file=sys.stderr)
        raise SystemExit(2) from None
