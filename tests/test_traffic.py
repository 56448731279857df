"""The traffic log's masking of phone numbers, and how many SMS a reply takes."""

from __future__ import annotations

import pytest

from gateway.traffic import mask_phone
from parser.segments import segment_count


@pytest.mark.parametrize(
    ("phone", "shown"),
    [
        ("+996555123456", "+996*******56"),
        ("0555123456", "0555****56"),
        ("Beeline", "*******"),
        ("1234", "****"),
        ("", ""),
    ],
)
def test_phones_show_at_most_their_first_four_characters_and_last_two(
    phone: str, shown: str
) -> None:
    assert mask_phone(phone) == shown


@pytest.mark.parametrize(
    ("text", "segments"),
    [("a" * 160, 1), ("a" * 161, 2), ("a" * 306, 2), ("a" * 307, 3), ("я" * 70, 1), ("я" * 71, 2)],
)
def test_a_reply_is_counted_in_the_segments_it_goes_out_as(text: str, segments: int) -> None:
    assert segment_count(text) == segments
