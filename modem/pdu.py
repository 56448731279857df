"""SMS PDUs through python-gammu's codec, wrapped so that nothing it rejects is lost.

``decode_pdu`` turns the hex a modem lists (SMSC field first) into a ``DecodedPDU``; a PDU gammu
rejects, or that is not even hex, raises ``PDUError`` carrying the raw hex, which the caller
keeps for audit. Known defect handled here: for texts with GSM-7 escape characters
(``{ } [ ] ~ € \\ ^ |``) ``gammu.DecodePDU`` copies TP-UDL septets as characters, so the text
comes back with junk after a NUL; it is cut at the first NUL.

A second one: its UCS-2 decoder treats ``~`` as an escape, so ``~П`` comes back as ``~~`` and
the text shifts by a character; UCS-2 texts are therefore read from the user data directly
(TS 23.040 §9.2.2), everything else about the PDU still from gammu.

``submit_pdus`` splits a reply with ``gammu.EncodeSMS`` (GSM-7 where the text allows, else UCS-2,
concatenated when long) and encodes each part for ``AT+CMGS``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import gammu

from modem.errors import PDUError
from modem.network import is_gsm7

__all__ = ["Concat", "DecodedPDU", "SubmitPDU", "decode_pdu", "submit_pdus"]

_CODINGS = {
    "Default_No_Compression": "gsm7",
    "Unicode_No_Compression": "ucs2",
    "8bit": "8bit",
    "Default_Compression": "gsm7-compressed",
    "Unicode_Compression": "ucs2-compressed",
}
_TYPES = {"Deliver": "deliver", "Status_Report": "status-report", "Submit": "submit"}
_VALIDITY_OCTETS = {0: 0, 1: 7, 2: 1, 3: 7}  # TP-VPF: none, enhanced, relative, absolute


@dataclass(frozen=True, slots=True)
class Concat:
    """Concatenation info from the user data header: reference, this part, number of parts."""

    ref: int
    part: int
    total: int


@dataclass(frozen=True, slots=True)
class DecodedPDU:
    """What a PDU says.

    ``number`` is the sender of a DELIVER, the recipient of a SUBMIT or STATUS-REPORT;
    ``timestamp`` the SMSC timestamp with its zone; for status reports, ``reference`` is the
    message reference of the SMS it reports on and ``status`` its TP-ST value (0 = delivered).
    """

    type: str
    number: str
    timestamp: datetime | None
    text: str
    coding: str
    concat: Concat | None
    smsc: str
    pdu_hex: str
    reference: int | None = None
    status: int | None = None


@dataclass(frozen=True, slots=True)
class SubmitPDU:
    """One part of an outgoing SMS: hex for ``AT+CMGS`` and the TPDU length it announces."""

    pdu_hex: str
    tpdu_length: int


def decode_pdu(pdu_hex: str) -> DecodedPDU:
    """Decode a PDU that starts with the SMSC field, as ``AT+CMGL``/``AT+CMGR`` list them."""
    cleaned = pdu_hex.strip()
    try:
        raw = bytes.fromhex(cleaned)
    except ValueError as exc:
        raise PDUError("not hexadecimal, or odd length", cleaned) from exc
    try:
        fields = gammu.DecodePDU(raw)
    except (gammu.GSMError, ValueError, TypeError) as exc:
        raise PDUError(f"gammu rejected it ({_gammu_reason(exc)})", cleaned) from exc
    decoded = _decoded(fields, cleaned)
    if decoded.coding == "ucs2" and decoded.type in ("deliver", "submit"):
        text = _ucs2_text(raw)
        if text is not None:
            return replace(decoded, text=text)
    return decoded


def _ucs2_text(raw: bytes) -> str | None:
    """The UCS-2 text of a DELIVER or SUBMIT, read past the header fields; None if truncated."""
    try:
        at = 1 + raw[0]  # past the SMSC field
        first = raw[at]
        deliver = first & 0x03 == 0x00
        at += 1 if deliver else 2  # first octet (and TP-MR of a SUBMIT)
        at += 2 + (raw[at] + 1) // 2 + 2  # address length, type, digits; TP-PID, TP-DCS
        at += 7 if deliver else _VALIDITY_OCTETS[(first >> 3) & 0x03]
        length, data = raw[at], raw[at + 1 : at + 1 + raw[at]]
        if len(data) < length:
            return None
        skip = 1 + data[0] if first & 0x40 else 0  # the user data header
        return data[skip:].decode("utf-16-be", errors="replace")
    except IndexError:
        return None


def _decoded(fields: dict[str, Any], pdu_hex: str) -> DecodedPDU:
    kind = _TYPES.get(str(fields.get("Type")), str(fields.get("Type")).lower())
    udh = fields.get("UDH") or {}
    is_report = kind == "status-report"
    return DecodedPDU(
        type=kind,
        number=str(fields.get("Number") or ""),
        timestamp=fields.get("DateTime"),
        text=_text(fields.get("Text")),
        coding=_CODINGS.get(str(fields.get("Coding")), str(fields.get("Coding"))),
        concat=_concat(udh),
        smsc=str((fields.get("SMSC") or {}).get("Number") or ""),
        pdu_hex=pdu_hex,
        reference=int(fields.get("MessageReference", 0)) if is_report else None,
        status=int(fields.get("DeliveryStatus", 0)) if is_report else None,
    )


def _text(value: object) -> str:
    if isinstance(value, bytes):  # 8-bit data: kept as hex, it is not a text
        return value.hex()
    text = str(value or "")
    # gammu copies TP-UDL septets as characters: junk follows a NUL when escapes were used.
    return text.split("\x00", 1)[0]


def _concat(udh: dict[str, Any]) -> Concat | None:
    kind = str(udh.get("Type", ""))
    if not kind.startswith("ConcatenatedMessages") or int(udh.get("AllParts", 0)) <= 0:
        return None
    ref = udh.get("ID16bit", -1) if kind.endswith("16bit") else udh.get("ID8bit", -1)
    return Concat(int(ref), int(udh.get("PartNumber", 0)), int(udh.get("AllParts", 0)))


def submit_pdus(number: str, text: str, *, status_report: bool = False) -> list[SubmitPDU]:
    """The parts of an SMS to ``number``: GSM-7 where the text allows, else UCS-2."""
    # libgammu's UCS-2 encoder writes "~" as U+0001: send UCS-2 only where GSM-7 cannot do.
    unicode = not is_gsm7(text)
    entries = [{"ID": "ConcatenatedTextLong", "Buffer": text}]
    try:
        messages = gammu.EncodeSMS({"Class": -1, "Unicode": unicode, "Entries": entries})
        parts = []
        for message in messages:
            message["Number"] = number
            message["SMSC"] = {"Location": 0, "Number": "", "Format": "Text", "Validity": "NA"}
            message["DeliveryReport"] = status_report  # hint only; AT+CSMP governs it too
            raw = gammu.EncodePDU(message, Layout="Submit")
            tpdu = raw[1 + raw[0] :]
            # "00": no SMSC address, the modem uses the SIM's (AT+CSCA), as phones do.
            parts.append(SubmitPDU("00" + tpdu.hex().upper(), len(tpdu)))
    except (gammu.GSMError, ValueError, TypeError) as exc:
        raise PDUError(f"cannot encode an SMS to {number} ({_gammu_reason(exc)})", "") from exc
    return parts


def _gammu_reason(exc: Exception) -> str:
    detail = exc.args[0] if exc.args else exc
    if isinstance(detail, dict):
        return str(detail.get("Text", detail))
    return str(detail)
