"""The one input reader (portal.core.input): text, integers, date-times and file labels."""
from datetime import datetime, timezone

import pytest

from portal.core import input as reader


def test_text_is_nfc_normalised_and_refuses_control_characters(ctx):
    assert reader.text("e\u0301") == "\u00e9"
    assert reader.text("\u1100\u1161") == "\uac00"  # conjoining jamo become the syllable 가
    assert reader.text(None) == ""
    for bad in ("a\x00b", "a\x1bb", "a\x7f", "a\x85", "line\u2028sep", "tab\there", "new\nline"):
        with pytest.raises(reader.InputError) as refused:
            reader.text(bad, field="summary")
        assert refused.value.field == "summary" and str(refused.value.message)
    assert reader.text("tab\there\r\nnew\nline", long=True) == "tab\there\nnew\nline"
    with pytest.raises(reader.InputError):
        reader.text("a\x00b", long=True)
    with pytest.raises(reader.InputError):
        reader.text(12)
    with pytest.raises(reader.InputError):
        reader.text("abcd", max_length=3)


def test_integers_come_from_ascii_digits_only_and_are_bounded(ctx):
    assert reader.integer("42") == 42 and reader.integer(7) == 7 and reader.integer("0") == 0
    for bad in ("\u00b2", "\u0661\u0662\u0663", "\uff11\uff12", "1.5", "1e3", "", " ", "-1", "+1", "0x10",
                "99999999999999999999999", "2147483648", True, 1.0, None, [1], "1\x00"):
        with pytest.raises(reader.InputError):
            reader.integer(bad)
    assert reader.integer("2147483647") == reader.MAX_INT
    assert reader.integer("-5", low=-10) == -5
    with pytest.raises(reader.InputError):
        reader.integer("11", low=1, high=10)
    assert reader.optional_integer("") is None and reader.optional_integer("3") == 3


def test_date_times_need_a_zone_and_fall_within_2000_to_2100(ctx):
    assert reader.moment("2026-03-01T09:00:00Z") == datetime(2026, 3, 1, 9, tzinfo=timezone.utc)
    assert reader.moment("2100-12-31T23:59:59+09:00").year == 2100
    for bad in ("2026-03-01T09:00:00", "9000-01-01T00:00:00Z", "1999-12-31T23:59:59Z", "0001-01-01T00:00:00+14:00",
                "9999-12-31T23:59:59-14:00", "not a date", "２０２６-03-01T09:00:00Z", "", 20260301,
                "2026-03-01T09:00:00Z\x00", "2026-13-01T00:00:00Z"):
        with pytest.raises(reader.InputError):
            reader.moment(bad)
    with pytest.raises(reader.InputError):
        reader.moment(datetime(2026, 1, 1))  # naive


def test_file_labels_lose_bidi_controls(ctx):
    assert reader.label("invoice\u202etxt.exe") == "invoicetxt.exe"
    assert reader.label("\u2066report\u2069.pdf ") == "report.pdf"
    with pytest.raises(reader.InputError):
        reader.label("a\x00.pdf")


def test_keyset_links(ctx):
    assert reader.keyset("2026-01-01T00:00:00+00:00|12") == "2026-01-01T00:00:00+00:00|12"
    assert reader.keyset(None) is None
    for bad in ("garbage", "9000-01-01T00:00:00+00:00|1", "2026-01-01T00:00:00+00:00|\u0661",
                "2026-01-01T00:00:00+00:00|99999999999999999999", "2026-01-01T00:00:00|1"):
        with pytest.raises(reader.InputError):
            reader.keyset(bad)


def test_upload_names_are_cleaned_into_labels(ctx):
    from portal.requests.attachments import safe_label

    assert reader.clean_label("e\u0301v\u202eil\x00.pdf") == "\u00e9vil.pdf"
    assert safe_label("C:\\docs\\\u2067report\u2069\u202e.pdf") == "report.pdf"
