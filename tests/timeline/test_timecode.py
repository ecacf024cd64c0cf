"""Timecode text at every rate OTIO can hold: SMPTE where it is defined, seconds+frames elsewhere."""
import opentimelineio as otio
import pytest

from timeline.timecode import format_timecode, parse_timecode

RATES = (12, 15, 24000 / 1001, 24, 25, 30000 / 1001, 30, 60000 / 1001, 60, 120, 29.83, 7.5)


@pytest.mark.parametrize("rate", RATES)
def test_every_frame_round_trips(rate):
    for frame in list(range(0, 400)) + [107892, 3600 * 130 + 7]:
        text = format_timecode(frame, rate)
        assert parse_timecode(text, rate) == frame, (rate, frame, text)


@pytest.mark.parametrize("rate, frame, text", [
    (24, 24 * 3600, "01:00:00:00"),
    (30000 / 1001, 1800, "00:01:00;02"),        # drop-frame skips ;00 and ;01 each minute
    (60000 / 1001, 3600, "00:01:00;04"),
    (24000 / 1001, 24, "00:00:01:00"),          # 23.976 is not drop-frame
    (12, 17, "00:00:01+05"),
    (15, 15 * 61 + 3, "00:01:01+03"),
    (120, 240, "00:00:02+00"),
    (29.83, 30, "00:00:01+00"),                 # a variable-rate file's average: not SMPTE
])
def test_known_texts(rate, frame, text):
    assert format_timecode(frame, rate) == text
    assert format_timecode(otio.opentime.RationalTime(frame, rate), rate) == text


def test_rational_times_are_rescaled():
    assert format_timecode(otio.opentime.RationalTime(1, 1), 12) == "00:00:01+00"


def test_frame_counts_are_accepted_and_bad_text_is_named():
    assert parse_timecode(" 42 ", 12) == 42
    with pytest.raises(ValueError, match=r"timecode 'soon'.*00:01:01\+05 at 12 fps"):
        parse_timecode("soon", 12)
    with pytest.raises(ValueError, match="rate"):
        format_timecode(3, 0)
