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
_PATTERNS = [
    re.compile(r"(?<!\d)(?P<year>\d{4})-(?P<mnum>\d{2})-(?P<day>\d{2})(?!\d)"),
    re.compile(_MONTH + r"\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<year>\d{4})\b", re.I),
    re.compile(r"\b(?P<day>\d{1,2})(?:st|nd|rd|th)?\s+" + _MONTH + r",?\s+(?P<year>\d{4})\b", re.I),
]
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
    """The date in a dateline among the first non-empty lines of ``text``, if any."""
    lines = [line for line in text.split("\n", 20) if line.strip()][:DATELINE_LINES]
    for line in lines:
        if found := _find(line[:DATELINE_CHARS]):
            return found
    return None


def _find(text: str) -> str | None:
    for pattern in _PATTERNS:
        for match in pattern.finditer(text):
            groups = match.groupdict()
            month = groups.get("mnum") or str(_MONTHS.get((groups.get("month") or "").lower(), 0))
            if found := _valid(groups["year"], month, groups["day"]):
                return found
    return None


def _valid(year: str, month: str, day: str) -> str | None:
    try:
        return date(int(year), int(month), int(day)).isoformat()
    except ValueError:
        return None
