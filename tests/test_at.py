"""AT framing: lines, prompts, final codes and URCs, however the bytes are cut."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from modem.at import ATChannel, Completed, LineFramer, Noise, Prompt, Unsolicited, is_final

LISTING = (
    b"AT+CMGL=4\r\r\n+CMGL: 1,0,,23\r\n0791947106004034040C9194\r\n"
    b'+CMTI: "SM",2\r\n+CMGL: 3,1,,23\r\n0791947106004034040C9195\r\n\r\nOK\r\n'
)


def feed_in_pieces(channel: ATChannel, data: bytes, cuts: list[int]) -> list[object]:
    events: list[object] = []
    start = 0
    for cut in [*sorted(cuts), len(data)]:
        events += channel.feed(data[start:cut])
        start = cut
    return events


def listing_events(cuts: list[int]) -> list[object]:
    channel = ATChannel()
    channel.start("AT+CMGL=4")
    return feed_in_pieces(channel, LISTING, cuts)


EXPECTED = [
    Unsolicited('+CMTI: "SM",2'),
    Completed(
        "AT+CMGL=4",
        ("+CMGL: 1,0,,23", "0791947106004034040C9194", "+CMGL: 3,1,,23",
         "0791947106004034040C9195"),
        "OK",
    ),
]  # fmt: skip


def test_a_response_with_a_urc_in_the_middle_is_split_correctly() -> None:
    assert listing_events([]) == EXPECTED


@pytest.mark.parametrize("cut", range(1, len(LISTING)))
def test_framing_is_the_same_when_the_bytes_are_cut_at_any_boundary(cut: int) -> None:
    assert listing_events([cut]) == EXPECTED


def test_framing_is_the_same_one_byte_at_a_time() -> None:
    assert listing_events(list(range(1, len(LISTING)))) == EXPECTED


@given(st.lists(st.integers(1, len(LISTING) - 1), max_size=12))
def test_framing_is_the_same_however_the_bytes_are_chunked(cuts: list[int]) -> None:
    assert listing_events(cuts) == EXPECTED


@given(st.binary(max_size=64).filter(lambda data: b"OK" not in data and b">" not in data))
def test_garbage_before_a_response_is_noise_and_framing_resynchronises(garbage: bytes) -> None:
    channel = ATChannel()
    events = channel.feed(garbage + b"\r\n")
    channel.start("AT+CSQ")
    events = channel.feed(b"\r\n+CSQ: 20,99\r\n\r\nOK\r\n")
    assert events == [Completed("AT+CSQ", ("+CSQ: 20,99",), "OK")]


def test_the_prompt_arrives_without_a_line_end() -> None:
    channel = ATChannel()
    channel.start("AT+CMGS=23")
    assert channel.feed(b"AT+CMGS=23\r\r\n> ") == [Prompt()]
    channel.expect_echo("0011000C91")
    assert channel.feed(b"0011000C91\x1a\r\n+CMGS: 7\r\n\r\nOK\r\n") == [
        Completed("AT+CMGS=23", ("+CMGS: 7",), "OK")
    ]


def test_a_routed_sms_urc_carries_its_pdu_line() -> None:
    channel = ATChannel()
    assert channel.feed(b'\r\n+CMT: "",23\r\n07919471060040\r\n') == [
        Unsolicited('+CMT: "",23', "07919471060040")
    ]


def test_a_registration_line_answers_creg_but_is_a_urc_otherwise() -> None:
    channel = ATChannel()
    channel.start("AT+CREG?")
    assert channel.feed(b"\r\n+CREG: 0,1\r\n\r\nOK\r\n") == [
        Completed("AT+CREG?", ("+CREG: 0,1",), "OK")
    ]
    assert channel.feed(b"\r\n+CREG: 1\r\n") == [Unsolicited("+CREG: 1")]


def test_huawei_noise_never_enters_a_response() -> None:
    channel = ATChannel()
    channel.start("AT+CSQ")
    events = channel.feed(b"\r\n^RSSI:17\r\n+CSQ: 20,99\r\n^BOOT:1,0,0,0,0\r\nRING\r\n\r\nOK\r\n")
    assert events == [
        Noise("^RSSI:17"),
        Noise("^BOOT:1,0,0,0,0"),
        Unsolicited("RING"),
        Completed("AT+CSQ", ("+CSQ: 20,99",), "OK"),
    ]


def test_a_line_that_never_ends_is_cut_and_does_not_grow_forever() -> None:
    framer = LineFramer()
    out = framer.feed(b"x" * 5000)
    assert len(out) == 1
    assert framer.buffer == bytearray()


@pytest.mark.parametrize(
    ("line", "final"),
    [("OK", True), ("ERROR", True), ("+CMS ERROR: 321", True), ("+CME ERROR: 10", True),
     ("NO CARRIER", True), ("+CMGS: 5", False), ("OKAY", False)],
)  # fmt: skip
def test_final_result_codes(line: str, final: bool) -> None:
    assert is_final(line) is final


def test_a_late_answer_after_a_timeout_is_not_taken_for_the_next_command() -> None:
    channel = ATChannel()
    channel.start("AT+CMGL=4")
    channel.cancel()
    late = channel.feed(b"\r\n+CMGL: 1,0,,23\r\n\r\nOK\r\n")
    assert all(isinstance(event, Noise) for event in late)
