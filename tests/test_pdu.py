"""PDU decoding checked against real-world PDUs asserted by other projects' test suites.

tests/data/pdu_vectors.tsv (see tests/data/PDU-VECTORS.md) names, for every row, the test suite
it comes from and its licence: python-gsmmodem, python-messaging, node-pdu, pygsm, smspdu,
gammu/python-gammu. The rows are facts (a PDU and what it says), used as test data.
"""

from __future__ import annotations

import csv
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from modem.errors import PDUError
from modem.network import deliver_pdus
from modem.pdu import Concat, decode_pdu, submit_pdus

DATA = Path(__file__).parent / "data"
with (DATA / "pdu_vectors.tsv").open(encoding="utf-8") as _file:
    ROWS = list(csv.DictReader(_file, delimiter="\t"))
DECODABLE = [row for row in ROWS if row["pdu_type"] in ("DELIVER", "SUBMIT", "STATUS-REPORT")]
# 3GPP TS 23.038 maps GSM 0x09 to "Ç"; the source asserted "ç".
TEXT_PER_SPEC = {"Hi £ € ¥ §\\n äéiñoåæüyßç": "Hi £ € ¥ §\n äéiñoåæüyßÇ"}
# libgammu 1.42 rejects this UCS-2 SUBMIT (ERR_CORRUPTED): it must fail cleanly, as PDUError.
GAMMU_REJECTS = {"はい"}


def with_smsc(row: dict[str, str]) -> str:
    return row["pdu_hex"] if row["has_smsc_field"] == "yes" else "00" + row["pdu_hex"]


def expected_text(row: dict[str, str]) -> str | None:
    text = row["expected_text_or_note"]
    if text.startswith("NOTE:") or row["pdu_type"] == "STATUS-REPORT":
        return None
    return TEXT_PER_SPEC.get(text, text.replace("\\n", "\n"))


def row_id(row: dict[str, str]) -> str:
    return row["source"].split("/")[-1][:60]


@pytest.mark.parametrize("row", DECODABLE, ids=row_id)
def test_real_world_pdus_decode_to_what_their_sources_assert(row: dict[str, str]) -> None:
    if row["expected_text_or_note"] in GAMMU_REJECTS:
        with pytest.raises(PDUError) as caught:
            decode_pdu(with_smsc(row))
        assert caught.value.pdu_hex == with_smsc(row)
        return
    decoded = decode_pdu(with_smsc(row))
    assert decoded.type == row["pdu_type"].lower()
    text = expected_text(row)
    if text is not None:
        shown = (
            bytes.fromhex(decoded.text).decode("latin-1")
            if decoded.coding == "8bit"
            else (decoded.text)
        )
        assert shown == text
    sender = row["expected_sender"]
    if sender and not row["expected_text_or_note"].startswith("NOTE:") and sender != "SR-UNKNOWN":
        assert decoded.number.lstrip("+") == sender.lstrip("+")  # some sources omit the +
    if row["expected_timestamp"] and row["pdu_type"] == "DELIVER":
        assert decoded.timestamp == datetime.fromisoformat(row["expected_timestamp"])
    if row["concat_ref/part/total"]:
        _, numbers = row["concat_ref/part/total"].split(":")
        ref, part, total = (int(n) for n in numbers.split("/"))
        assert decoded.concat == Concat(ref, part, total)


@pytest.mark.parametrize("row", [r for r in ROWS if r["pdu_type"] == "STATUS-REPORT"], ids=row_id)
def test_status_reports_say_which_message_and_what_happened(row: dict[str, str]) -> None:
    decoded = decode_pdu(with_smsc(row))
    assert decoded.type == "status-report"
    assert decoded.reference is not None
    assert decoded.status is not None
    if row["expected_text_or_note"] == "Delivered":
        assert decoded.status == 0


@pytest.mark.parametrize(
    "row", [r for r in ROWS if r["pdu_type"] == "DELIVER-MALFORMED"], ids=row_id
)
def test_malformed_pdus_raise_pdu_error_keeping_the_raw_hex(row: dict[str, str]) -> None:
    with pytest.raises(PDUError) as caught:
        decode_pdu(with_smsc(row))
    assert caught.value.pdu_hex == with_smsc(row)


def test_gsm7_escape_characters_come_back_without_gammus_trailing_junk() -> None:
    row = next(r for r in ROWS if r["expected_text_or_note"] == "{test}")
    assert decode_pdu(with_smsc(row)).text == "{test}"


@given(st.text(max_size=400))
def test_any_bytes_as_hex_decode_or_raise_pdu_error(text: str) -> None:
    hex_text = text.encode("utf-8").hex()
    try:
        decode_pdu(hex_text)
    except PDUError as exc:  # either outcome is fine; a crash is not
        assert exc.pdu_hex == hex_text  # noqa: PT017


@given(st.binary(max_size=200))
def test_random_pdus_decode_to_text_or_raise_pdu_error_with_the_pdu(data: bytes) -> None:
    try:
        decoded = decode_pdu(data.hex())
    except PDUError as exc:
        assert exc.pdu_hex == data.hex()  # noqa: PT017  # kept for audit
    else:
        assert isinstance(decoded.text, str)
        assert decoded.pdu_hex == data.hex()


TEXTS = st.text(
    alphabet=st.sampled_from("abcXYZ 0123,.@{}[]~€\\^|£¥èÇ\nПриветҮүӨөҢң😀"), max_size=400
)


@given(TEXTS, st.integers(0, 255))
def test_what_the_network_delivers_decodes_back_to_the_same_text(text: str, reference: int) -> None:
    moment = datetime(2027, 4, 2, 8, 30, 5, tzinfo=timezone(timedelta(hours=6)))
    pdus = deliver_pdus("+996555123456", text, timestamp=moment, reference=reference)
    parts = [decode_pdu(pdu) for pdu in pdus]
    assert "".join(part.text for part in parts) == text
    assert all(part.number == "+996555123456" and part.timestamp == moment for part in parts)
    if len(parts) > 1:
        assert [part.concat for part in parts] == [
            Concat(reference, number, len(parts)) for number in range(1, len(parts) + 1)
        ]


@given(st.text(alphabet=st.sampled_from("abc XYZ 0123,.:!Принято{}€"), min_size=1, max_size=300))
def test_replies_encode_to_parts_that_decode_back_to_the_text(text: str) -> None:
    parts = submit_pdus("+996555123456", text)
    decoded = [decode_pdu(part.pdu_hex) for part in parts]
    assert "".join(part.text for part in decoded) == text
    for part in parts:
        assert part.tpdu_length == len(part.pdu_hex) // 2 - 1
