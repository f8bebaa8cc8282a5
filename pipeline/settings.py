"""What every config section validates itself with: ConfigError and check.

A leaf module (it imports nothing from the project), so that a stage family's config dataclass
lives beside the code it configures (pipeline/text/..., declared to the registry) while
pipeline.config assembles the run's configuration from those declarations without an import cycle.
"""


class ConfigError(ValueError):
    """A bad setting; the message is one line naming the key."""


def check(cond: bool, key: str, message: str) -> None:
    """ConfigError("key: message") unless cond."""
    if not cond:
        raise ConfigError(f"{key}: {message}")
