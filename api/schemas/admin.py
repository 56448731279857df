"""Broadcasts, the outbox, tokens, modems and health."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from api.schemas.common import Model, Paged

__all__ = [
    "BroadcastIn",
    "BroadcastOut",
    "HealthOut",
    "ModemOut",
    "OutboxItem",
    "OutboxPage",
    "ReadyOut",
    "TokenCreated",
    "TokenIn",
    "TokenOut",
]


class BroadcastIn(BaseModel):
    """An SMS to observers: all of them, a region's, a station's, or a list of codes."""

    model_config = ConfigDict(extra="forbid", strict=True)  # false is not 0, "5" not 5

    text: str = Field(
        min_length=1, max_length=480, pattern=r"^[^\x00]*$",
        examples=["Reminder: send the closing checklist CL right after the count."],
    )  # fmt: skip
    all: bool = False
    region: str | None = Field(default=None, max_length=200, pattern=r"^[^\x00]*$")
    station: str | None = Field(default=None, max_length=40, pattern=r"^[^\x00]*$")
    observers: (
        list[Annotated[str, StringConstraints(max_length=20, pattern=r"^[^\x00]*$")]] | None
    ) = Field(default=None, max_length=5000, description="Observer codes.")

    @model_validator(mode="after")
    def _one_audience(self) -> BroadcastIn:
        chosen = [self.all, self.region is not None, self.station is not None,
                  self.observers is not None]  # fmt: skip
        if sum(chosen) != 1:
            raise ValueError("choose exactly one of all, region, station, observers")
        return self


class BroadcastOut(Model):
    """A queued broadcast."""

    id: int
    recipients: int = Field(description="SMS queued (observers with a phone number).")
    audience: dict[str, Any]


class OutboxItem(Model):
    """An SMS waiting, sent or given up."""

    id: int
    recipient: str
    text: str
    status: Literal["pending", "sent", "failed"]
    attempts: int
    last_error: str | None
    modem_imsi: str | None
    in_reply_to: int | None = Field(description="The message this replies to.")
    broadcast_id: int | None
    created_at: datetime
    next_attempt_at: datetime
    sent_at: datetime | None


class OutboxPage(Paged):
    """A page of the outbox, newest first."""

    items: list[OutboxItem]


class TokenIn(BaseModel):
    """A token to create."""

    model_config = ConfigDict(extra="forbid", strict=True)  # false is not 0, "5" not 5

    name: str = Field(min_length=1, max_length=100, pattern=r"^[^\x00]*$", examples=["dashboard"])
    scope: Literal["read", "read:pii", "admin"]


class TokenOut(Model):
    """A token (never its secret)."""

    id: int
    name: str
    scope: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreated(TokenOut):
    """A new token: ``token`` is shown this once."""

    token: str


class ModemOut(Model):
    """A modem's last reported status."""

    name: str = Field(
        description="Its label, or `modem N` when it has none: says nothing of the SIM.",
        examples=["modem 1"],
    )
    imsi: str | None = Field(description="The SIM's identity; null unless `read:pii`.")
    imei: str | None = Field(description="The modem's identity; null unless `read:pii`.")
    device: str | None = Field(description="Its serial device; null unless `read:pii`.")
    label: str
    state: str | None = Field(description="ready, starting, backing off, failed, stopped.")
    up: bool = Field(description="Ready and heard of recently.")
    signal_dbm: int | None
    registration: str | None
    operator: str | None
    storage: dict[str, Any] | None = Field(description="SMS storages: used and total.")
    spool: int | None = Field(description="Parts waiting in the spool for the database.")
    last_error: str | None
    last_seen_at: datetime
    seconds_since_seen: float


class HealthOut(Model):
    """Liveness."""

    status: Literal["ok"]


class ReadyOut(Model):
    """Readiness: the database and the modems."""

    ready: bool
    checks: dict[str, Any]
