"""The network's side of an incoming SMS: SMS-DELIVER PDUs built as an SMSC builds them.

Written from 3GPP TS 23.040 (PDU layout, user data header) and TS 23.038 (GSM 7-bit default
alphabet, UCS-2), independently of gammu, so that the emulator's PDUs test our gammu-based
decoder rather than agree with it by construction. A text that fits the GSM 7-bit alphabet goes
as GSM-7 (160 septets, 153 per part when concatenated); anything else as UCS-2 (70 characters,
67 per part), split into parts with an 8-bit concatenation reference, as phones do.
"""

from __future__ import annotations

from datetime import datetime, timedelta

__all__ = ["GSM7_BASIC", "GSM7_EXTENSION", "deliver_pdus", "encode_address", "is_gsm7"]

GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = {"\f": 0x0A, "^": 0x14, "{": 0x28, "}": 0x29, "\\": 0x2F, "[": 0x3C, "~": 0x3D,
                  "]": 0x3E, "|": 0x40, "€": 0x65}  # fmt: skip
_BASIC_CODE = {char: code for code, char in enumerate(GSM7_BASIC) if char != "\x1b"}
_ESCAPE = 0x1B
_SINGLE_SEPTETS, _PART_SEPTETS = 160, 153
_SINGLE_UCS2, _PART_UCS2 = 70, 67


def is_gsm7(text: str) -> bool:
    """Whether every character of ``text`` is in the GSM 7-bit default alphabet or extension."""
    return all(char in _BASIC_CODE or char in GSM7_EXTENSION for char in text)


def deliver_pdus(
    sender: str,
    text: str,
    *,
    timestamp: datetime,
    smsc: str = "+996555000000",
    reference: int = 0,
) -> list[str]:
    """Hex PDUs (SMSC field first, as ``AT+CMGL`` shows them) delivering ``text``."""
    septets = _units(text)
    chunks: list[list[int] | str]
    if septets is not None:
        dcs, chunks = 0x00, [*_split_septets(septets)]
    else:
        dcs, chunks = 0x08, [*_split_ucs2(text)]
    pdus = []
    for number, chunk in enumerate(chunks, start=1):
        udh = bytes([5, 0x00, 3, reference & 0xFF, len(chunks), number]) if len(chunks) > 1 else b""
        user_data, length = _user_data(chunk, udh)
        first_octet = 0x04 | (0x40 if udh else 0)  # SMS-DELIVER, no more messages to send
        tpdu = (
            bytes([first_octet])
            + encode_address(sender)
            + bytes([0x00, dcs])
            + _timestamp(timestamp)
            + bytes([length])
            + user_data
        )
        pdus.append((_smsc_field(smsc) + tpdu).hex().upper())
    return pdus


def _user_data(chunk: list[int] | str, udh: bytes) -> tuple[bytes, int]:
    if isinstance(chunk, str):
        data = udh + chunk.encode("utf-16-be")
        return data, len(data)
    return _pack_septets(chunk, udh)


def _units(text: str) -> list[int] | None:
    septets: list[int] = []
    for char in text:
        if char in _BASIC_CODE:
            septets.append(_BASIC_CODE[char])
        elif char in GSM7_EXTENSION:
            septets += [_ESCAPE, GSM7_EXTENSION[char]]
        else:
            return None
    return septets


def _split_septets(septets: list[int]) -> list[list[int]]:
    if len(septets) <= _SINGLE_SEPTETS:
        return [septets]
    parts: list[list[int]] = []
    while septets:
        cut = min(_PART_SEPTETS, len(septets))
        if septets[cut - 1] == _ESCAPE and cut < len(septets):
            cut -= 1  # never split an escape from the character it escapes
        parts.append(septets[:cut])
        septets = septets[cut:]
    return parts


def _split_ucs2(text: str) -> list[str]:
    if len(text.encode("utf-16-be")) // 2 <= _SINGLE_UCS2:
        return [text]
    parts: list[str] = []
    current = ""
    for char in text:
        if len((current + char).encode("utf-16-be")) // 2 > _PART_UCS2:
            parts.append(current)
            current = ""
        current += char
    return [*parts, current]


def _pack_septets(septets: list[int], udh: bytes) -> tuple[bytes, int]:
    """GSM-7 user data: UDH, fill bits to a septet boundary, then the septets packed LSB first."""
    fill = (7 - (len(udh) * 8) % 7) % 7 if udh else 0
    bits = 0
    count = fill
    for septet in septets:
        bits |= septet << count
        count += 7
    packed = bits.to_bytes((count + 7) // 8, "little") if count else b""
    length = (len(udh) * 8 + fill) // 7 + len(septets)  # TP-UDL counts septets, header included
    return udh + packed, length


def encode_address(number: str) -> bytes:
    """TP-OA: length in digits, type of address, semi-octets; alphanumeric senders as GSM-7."""
    digits = number.lstrip("+")
    if digits.isdigit():
        kind = 0x91 if number.startswith("+") else 0x81
        return bytes([len(digits), kind]) + _semi_octets(digits)
    septets = _units(number) or _units("?" * len(number)) or []
    packed, _ = _pack_septets(septets, b"")
    return bytes([len(packed) * 2, 0xD0]) + packed


def _smsc_field(number: str) -> bytes:
    digits = number.lstrip("+")
    octets = _semi_octets(digits)
    return bytes([len(octets) + 1, 0x91]) + octets


def _semi_octets(digits: str) -> bytes:
    padded = digits + ("F" if len(digits) % 2 else "")
    return bytes.fromhex("".join(padded[i + 1] + padded[i] for i in range(0, len(padded), 2)))


def _timestamp(moment: datetime) -> bytes:
    """TP-SCTS: local time as swapped BCD and the zone in quarter hours (sign in bit 3)."""
    offset = moment.utcoffset() or timedelta(0)
    quarters = int(abs(offset.total_seconds()) // 900)
    fields = [
        moment.year % 100,
        moment.month,
        moment.day,
        moment.hour,
        moment.minute,
        moment.second,
    ]
    swapped = [((value % 10) << 4) | (value // 10) for value in fields]
    zone = ((quarters % 10) << 4) | (quarters // 10) | (0x08 if offset < timedelta(0) else 0)
    return bytes([*swapped, zone])
