"""What each scope sees: the one place that decides it, for JSON, CSV, the live feed and any
page served later.

A ``read`` token sees counts, codes and answers: phone numbers masked, and none of the free
text people typed (message texts, report comments after ``@``, quarantine reasons and who gave
them) nor the SIM identities of the modems (IMSI, IMEI, device path). ``read:pii`` and
``admin`` see everything. Each ``*_seen`` function takes a row as the queries return it and
gives it back as ``who`` may see it; a caller never decides this on its own.
"""

from __future__ import annotations

from typing import Any

from api.auth import Principal

__all__ = [
    "mask_phone",
    "message_detail_seen",
    "message_seen",
    "modem_names",
    "modem_seen",
    "observer_seen",
    "report_seen",
]

_SHOWN_HEAD = 4  # at most this many leading characters of a phone number
_SHOWN_TAIL = 2  # and this many trailing digits


def mask_phone(phone: str) -> str:
    """A phone number with its middle hidden, whatever its length: at most the first four
    characters and the last two digits show (+996555123456 -> +996*******56); a number too
    short to hide anything that way is hidden whole."""
    head = min(_SHOWN_HEAD, max(len(phone) - _SHOWN_TAIL - 6, 0))
    tail = _SHOWN_TAIL if len(phone) >= 8 and phone[-_SHOWN_TAIL:].isdigit() else 0
    return phone[:head] + "*" * (len(phone) - head - tail) + phone[len(phone) - tail :]


def message_seen(message: dict[str, Any], who: Principal) -> dict[str, Any]:
    """An SMS: numbers masked, text and the SIM it went through hidden without PII."""
    if who.sees_pii:
        return message
    shown = {**message, "text": None}
    for key in ("sender", "recipient"):
        if key in shown:
            shown[key] = mask_phone(shown[key])
    if "modem_imsi" in shown:
        shown["modem_imsi"] = None
    return shown


def message_detail_seen(message: dict[str, Any], who: Principal) -> dict[str, Any]:
    """One message with its parts and parse: also the raw PDUs and the parse (which repeats
    the text) hidden without PII."""
    if who.sees_pii:
        return message
    shown = message_seen(message, who)
    shown["parse"] = None
    shown["parts_detail"] = [{**part, "pdu_hex": None} for part in shown["parts_detail"]]
    return shown


def report_seen(report: dict[str, Any], who: Principal) -> dict[str, Any]:
    """A report: its comment, quarantine reason and the quarantine history's reasons and
    actors hidden without PII (whether it is quarantined, and when, stays)."""
    if who.sees_pii:
        return report
    shown = {**report}
    for key in ("comment", "quarantine_reason"):
        if key in shown:
            shown[key] = None
    if "quarantine_history" in shown:
        shown["quarantine_history"] = [
            {**change, "reason": None, "actor": None} for change in shown["quarantine_history"]
        ]
    return shown


def observer_seen(observer: dict[str, Any], who: Principal) -> dict[str, Any]:
    """An observer: name hidden and phone numbers masked without PII."""
    if who.sees_pii:
        return observer
    return {**observer, "name": "", "phones": [mask_phone(p) for p in observer["phones"]]}


def modem_seen(modem: dict[str, Any], who: Principal) -> dict[str, Any]:
    """A modem's status: its IMSI, IMEI and device path hidden without PII (its ``name``,
    from ``modem_names``, tells modems apart)."""
    if who.sees_pii:
        return modem
    return {**modem, "imsi": None, "imei": None, "device": None}


def modem_names(rows: list[dict[str, Any]]) -> dict[str, str]:
    """A name for each modem (by IMSI) that says nothing of its SIM: its label when that is
    set and unique, else ``modem N`` by its place in IMSI order. ``/metrics`` labels by it."""
    ordered = sorted(row["imsi"] for row in rows)
    labels = [row["label"] for row in rows if row["label"]]
    names = {}
    for row in rows:
        label = row["label"]
        unique = label and labels.count(label) == 1
        names[row["imsi"]] = label if unique else f"modem {ordered.index(row['imsi']) + 1}"
    return names
