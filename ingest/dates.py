"""Dates as ISO ``YYYY-MM-DD``: from metadata in whatever form it comes, else from a dateline.

The date filter compares ISO dates, so a document's date must be in that form to be found;
news and memos that carry no metadata usually say their date in a dateline near the top
("VELLMARK, May 14, 2031 -", "14 May 2031", "2031-05-14").
"""

from __future__ import annotations

import re
from datetime import date, datetime

_MONTHS = {
    name: i
    for i, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
_MONTH = r"(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DATES = [
    r"(?<!\d)(?P<year>\d{4})-(?P<mnum>\d{2})-(?P<day>\d{2})(?!\d)",
    _MONTH + r"\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<year>\d{4})\b",
    r"\b(?P<day>\d{1,2})(?:st|nd|rd|th)?\s+" + _MONTH + r",?\s+(?P<year>\d{4})\b",
]
_PATTERNS = [re.compile(d, re.I) for d in _DATES]
# A dateline, not any date near the top ("visits from 2 to 4 February 2026" is an event):
# a line that is only a date (maybe "Published:", a weekday), "CITY, <date> -", "<date> -".
_WEEKDAY = r"(?:(?:mon|tues|wednes|thurs|fri|satur|sun)day,?\s+)?"
_FORMS = [
    r"^(?:(?:published|posted|updated|dated?|issued)(?:\s+on)?\s*:?\s*)?" + _WEEKDAY + "{d}\\.?$",
    r"^[A-Z][\w .'’-]{{1,40}},\s+" + _WEEKDAY + r"{d}\s*(?:[-–—:(]|$)",
    r"^" + _WEEKDAY + r"{d}\s*[-–—:]",
]
_DATELINES = [re.compile(form.format(d=d), re.I) for form in _FORMS for d in _DATES]
_PDF_DATE = re.compile(r"^D:(?P<year>\d{4})(?P<mnum>\d{2})?(?P<day>\d{2})?")
DATELINE_LINES = 3  # a dateline sits in the first lines, not anywhere in the text
DATELINE_CHARS = 160


def iso_date(value: object) -> str | None:
    """``value`` (ISO text, a PDF ``D:2031...`` date, a datetime, "May 14, 2031") as ISO."""
    if value is None:
        return None
    if isinstance(value, datetime | date):
        return value.strftime("%Y-%m-%d")
    text = str(value).strip()
    if match := _PDF_DATE.match(text):
        return _valid(match.group("year"), match.group("mnum") or "01", match.group("day") or "01")
    if re.fullmatch(r"\d{4}", text):
        return None  # a year alone is too coarse to filter by
    return _find(text[:DATELINE_CHARS])


def dateline_date(text: str) -> str | None:
    """The date of a dateline among the first non-empty lines of ``text``, if any."""
    lines = [line.strip() for line in text.split("\n", 20) if line.strip()][:DATELINE_LINES]
    for line in lines:
        for pattern in _DATELINES:
            if (match := pattern.search(line[:DATELINE_CHARS])) and (found := _date_of(match)):
                return found
    return None


def _find(text: str) -> str | None:
    for pattern in _PATTERNS:
        for match in pattern.finditer(text):
            if found := _date_of(match):
                return found
    return None


def _date_of(match: re.Match[str]) -> str | None:
    groups = match.groupdict()
    month = groups.get("mnum") or str(_MONTHS.get((groups.get("month") or "").lower(), 0))
    return _valid(groups["year"], month, groups["day"])


def _valid(year: str, month: str, day: str) -> str | None:
    try:
        return date(int(year), int(month), int(day)).isoformat()
    except ValueError:
        return None
