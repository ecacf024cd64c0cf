"""The storyboard text format."""
import pytest

from timeline.storyboard import DEFAULT_SECONDS, Shot, format_storyboard, parse_storyboard


def test_parse_timed_and_plain_lines_skipping_blanks_and_comments():
    text = """# act one
3: a red ball moving left over a field at sunset, static camera

pan right over mountains at night
  1.5s : zoom in on a yellow box in a city, day
0.25: tilt up: sea at day
"""
    assert parse_storyboard(text) == [
        Shot(3.0, "a red ball moving left over a field at sunset, static camera"),
        Shot(DEFAULT_SECONDS, "pan right over mountains at night"),
        Shot(1.5, "zoom in on a yellow box in a city, day"),
        Shot(0.25, "tilt up: sea at day"),
    ]
    assert parse_storyboard("") == [] and parse_storyboard("# only\n\n") == []


@pytest.mark.parametrize("line, why", [
    ("0: a ball", "seconds must be > 0"),
    ("-2: a ball", "bad duration"),
    ("3:", "no prompt"),
    ("2.5s:   ", "no prompt"),
])
def test_bad_lines_name_their_line_number(line, why):
    with pytest.raises(ValueError, match=f"line 3: .*{why}|line 3: {why}"):
        parse_storyboard(f"# header\n2: fine\n{line}\n")


def test_format_round_trips():
    shots = [Shot(3.0, "a red ball"), Shot(2.0, "night   over\nthe sea"), Shot(0.1 + 0.2, "x")]
    text = format_storyboard(shots)
    assert text.splitlines()[0] == "3: a red ball"
    back = parse_storyboard(text)
    assert back[1].prompt == "night over the sea"
    assert [s.seconds for s in back] == [s.seconds for s in shots]
    with pytest.raises(ValueError, match=r"shots\[0\]"):
        format_storyboard([Shot(0, "x")])
    with pytest.raises(ValueError, match=r"shots\[1\]"):
        format_storyboard([Shot(1, "x"), Shot(1, "  ")])
