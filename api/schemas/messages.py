"""The SMS log."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from api.schemas.common import Model, Paged

__all__ = ["MessageDetail", "MessageOut", "MessagePage", "PartOut"]


class MessageOut(Model):
    """One SMS, in or out."""

    id: int = Field(examples=[1042])
    direction: Literal["in", "out"]
    created_at: datetime
    modem_imsi: str | None = Field(
        description="The SIM that received or sent it; null unless `read:pii`."
    )
    sender: str = Field(
        description="Incoming: the phone number it came from. Masked (`+996*******56`) "
        "unless the token has scope `read:pii`.",
        examples=["+996*******56"],
    )
    recipient: str = Field(description="Outgoing: the number it went to; masked likewise.")
    text: str | None = Field(
        description="The text as received or sent; null unless the token has `read:pii`.",
        examples=["OP 1234 A1 B1 C7 D1 E1500"],
    )
    parts: int = Field(description="How many SMS parts it took.")
    status: str = Field(
        description="In: accepted, rejected, duplicate, unverified, incomplete, undecodable, "
        "status-report. Out: sent, failed.",
        examples=["accepted"],
    )
    error_codes: list[str] = Field(
        description="Parse and gateway error codes (see the README's table).",
        examples=[["UNKNOWN_TAG"]],
    )
    form_code: str | None = Field(examples=["OP"])
    observer_code: str | None = Field(examples=["1234"])


class MessagePage(Paged):
    """A page of the SMS log, newest first."""

    items: list[MessageOut]


class PartOut(Model):
    """One PDU as the modem handed it up."""

    id: int
    pdu_hex: str | None = Field(description="The raw PDU; null unless `read:pii`.")
    kind: str = Field(examples=["deliver"])
    coding: str = Field(examples=["gsm7"])
    smsc_timestamp: datetime | None
    concat_ref: int | None
    concat_part: int | None
    concat_total: int | None
    decode_error: str | None
    received_at: datetime


class MessageDetail(MessageOut):
    """One message with its parts, its parse and the report it produced."""

    parse: dict[str, Any] | None = Field(
        description="The parser's result (answers, errors with spans, the reply); null "
        "unless `read:pii`, since it repeats the text."
    )
    parts_detail: list[PartOut]
    report_id: int | None = Field(description="The report it produced, if accepted.")
