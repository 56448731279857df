"""shailoo's settings: environment variables (prefix ``SHAILOO_``) over ``shailoo.toml``.

Every setting, its default and its meaning is listed in the README ("Settings"). Nested groups
use ``__`` in environment variables: ``SHAILOO_REPLIES__PER_SENDER_PER_HOUR=5``. The database URL
may also come from plain ``DATABASE_URL``, as most hosting tools set it.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, BaseModel, Field, SecretStr
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

__all__ = ["ApiConfig", "ModemConfig", "RepliesConfig", "Settings", "get_settings"]


class ModemConfig(BaseModel):
    """One modem: its device path (prefer /dev/serial/by-id/...) and how to talk to it.

    ``backend`` is ``at`` (shailoo's own AT driver) or ``gammu`` (python-gammu's drivers, for
    phones that need gammu's quirk tables); ``connection`` is gammu's connection name (``at``,
    ``at115200``, ``blueat``..., ``none`` for its dummy driver) and only the gammu backend reads
    it, as the AT driver alone reads ``baud`` and ``storage``.
    """

    device: str
    label: str = ""
    backend: Literal["at", "gammu"] = "at"
    connection: str = "at"
    baud: int = 115_200
    pin: SecretStr | None = None
    storage: str = "auto"


class RepliesConfig(BaseModel):
    """Replies to observers."""

    enabled: bool = True
    per_sender_per_hour: int = Field(default=10, ge=0)
    attempts: int = Field(default=5, ge=1)
    retry_first_s: float = Field(default=10.0, gt=0)
    retry_max_s: float = Field(default=600.0, gt=0)


class ApiConfig(BaseModel):
    """The REST API (``shailoo run`` serves it unless ``--no-api``; ``shailoo api`` alone)."""

    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    broadcasts_per_hour: int = Field(default=6, ge=0)
    token_cache_s: float = Field(default=10.0, ge=0)  # a revoked token works at most this long
    events_poll_s: float = Field(default=0.5, gt=0)
    modem_stale_s: float = Field(default=120.0, gt=0)  # /ready: a modem not heard of this long
    cache_s: float = Field(default=1.0, ge=0)  # identical GETs answered from memory this long
    # Long requests each hold memory and (exports) a database connection: bounded, per token
    # and per process, so that they cannot starve every other route (the pool has 30).
    exports_per_token: int = Field(default=2, ge=1)
    exports_max: int = Field(default=6, ge=1)
    streams_per_token: int = Field(default=20, ge=1)
    streams_max: int = Field(default=1000, ge=1)
    body_max_bytes: int = Field(default=64 * 1024, ge=1024)  # any request body but...
    import_max_bytes: int = Field(default=32 * 1024 * 1024, ge=1024)  # ...a roster import


class Settings(BaseSettings):
    """Everything the gateway can be told; see the module docstring."""

    model_config = SettingsConfigDict(
        env_prefix="SHAILOO_", env_nested_delimiter="__", toml_file="shailoo.toml", extra="forbid"
    )

    database_url: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("SHAILOO_DATABASE_URL", "DATABASE_URL")
    )
    data_dir: Path = Path("shailoo-data")
    forms: Path | None = None
    modems: list[ModemConfig] = Field(default_factory=list)
    sender_mismatch: Literal["reject", "unverified"] = "unverified"
    duplicate_window_s: float = Field(default=12 * 3600, ge=0)
    incomplete_after_s: float = Field(default=600, gt=0)
    replies: RepliesConfig = Field(default_factory=RepliesConfig)
    api: ApiConfig = Field(default_factory=ApiConfig)
    # Stations per stratum in the whole country, for the estimates when the roster holds only
    # the sampled stations and the forms file declares no ``strata:`` (which wins).
    strata: dict[str, int] = Field(default_factory=dict)
    log_format: Literal["text", "json"] = "text"
    log_level: str = "INFO"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Arguments, then the environment, then shailoo.toml.
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))

    @property
    def spool_path(self) -> Path:
        """Where parts wait while PostgreSQL is unreachable."""
        return self.data_dir / "spool.jsonl"

    @property
    def pgdata(self) -> Path:
        """The embedded PostgreSQL's data directory (used when no database URL is set)."""
        return self.data_dir / "postgres"


@lru_cache
def get_settings() -> Settings:
    """The process's settings, read once; tests call ``get_settings.cache_clear()``."""
    return Settings()
