"""E-mail (.eml) -> the mail as a document, and each readable attachment as its own.

Subject is the title, the sender the source, the Date header the date. The body is the plain
text part, else the HTML part read by the HTML loader. Attachments in a format of
``ingest.loaders.FORMATS`` become documents ``<mail id>/<file name>`` that name the mail in
``attached_to``; others are logged and left out. A mail with neither a body nor a readable
attachment is an error that names the attachments it could not read.
"""

from __future__ import annotations

import email
import logging
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage
from email.utils import parseaddr, parsedate_to_datetime
from pathlib import PurePosixPath

from ingest.dates import iso_date
from ingest.loaders import (
    FORMATS,
    LoadError,
    SourceDocument,
    contain,
    doc_id_problem,
    parse_bytes,
)

log = logging.getLogger(__name__)
MAX_ATTACHMENTS = 50


def read_eml(data: bytes, doc_id: str, name: str) -> Iterator[SourceDocument]:
    try:
        message = email.message_from_bytes(data, policy=policy.default)
    except Exception as exc:
        raise LoadError(f"{name}: unreadable e-mail ({type(exc).__name__})") from exc
    if not isinstance(message, EmailMessage) or not (message.keys()):
        raise LoadError(f"{name}: not an e-mail (no headers)")
    try:
        body, hidden = _body(message, doc_id, name)
        attachments, unreadable = _attachments(message, doc_id, name)
    except LoadError:
        raise
    except Exception as exc:  # a malformed MIME structure
        raise LoadError(f"{name}: unreadable e-mail ({type(exc).__name__})") from exc
    if not body.strip() and not attachments:
        why = "; ".join(unreadable) or "no attachments"
        raise LoadError(f"{name}: e-mail has no text body and no readable attachment ({why})")
    if body.strip():
        yield SourceDocument(
            doc_id=doc_id,
            title=_header(message, "subject"),
            text=body,
            date=_date(message),
            source=_sender(message),
            path=name,
            hidden_text=hidden,
        )
    yield from attachments


def _header(message: EmailMessage, key: str) -> str:
    try:
        return " ".join(str(message.get(key, "")).split())
    except Exception:  # a malformed encoded word
        return ""


def _sender(message: EmailMessage) -> str | None:
    display, address = parseaddr(_header(message, "from"))
    return display or address or None


def _date(message: EmailMessage) -> str | None:
    raw = _header(message, "date")
    try:
        return iso_date(parsedate_to_datetime(raw)) if raw else None
    except (TypeError, ValueError):
        return iso_date(raw)


def _body(message: EmailMessage, doc_id: str, name: str) -> tuple[str, list[str]]:
    """The text part, else the HTML part's main text, else ""."""
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return "", []
    try:
        content = part.get_content()
    except (LookupError, ValueError, AssertionError):  # unknown charset, bad transfer encoding
        payload = part.get_payload(decode=True) or b""
        content = payload.decode("utf-8", errors="replace")
    if not isinstance(content, str):
        return "", []
    if part.get_content_subtype() == "html":
        from ingest.web import html_text

        text, _, hidden = html_text(content, name)
        return text, hidden
    return content.replace("\r\n", "\n"), []


def _attachments(
    message: EmailMessage, mail_id: str, name: str
) -> tuple[list[SourceDocument], list[str]]:
    """Documents read from the attachments, and why the others were not read."""
    docs: list[SourceDocument] = []
    unreadable: list[str] = []
    for i, part in enumerate(message.iter_attachments()):
        filename = PurePosixPath((part.get_filename() or f"attachment-{i + 1}").replace("\\", "/"))
        label = filename.name or f"attachment-{i + 1}"
        if i >= MAX_ATTACHMENTS:
            unreadable.append(f"{label}: more than {MAX_ATTACHMENTS} attachments")
            continue
        suffix = filename.suffix.lower()
        if suffix not in FORMATS or suffix == ".eml":
            unreadable.append(f"{label}: unsupported type '{suffix or part.get_content_type()}'")
            continue
        child_id = f"{mail_id}/{label}"
        if problem := doc_id_problem(child_id):
            unreadable.append(f"{label}: {problem}")
            continue
        try:
            payload = part.get_payload(decode=True) or b""
            children = contain(parse_bytes(payload, suffix, child_id, f"{name}/{label}"), child_id)
        except LoadError as exc:
            unreadable.append(str(exc))
            continue
        for child in children:
            child.attached_to = mail_id
            child.source = child.source or _sender(message)
            child.date = child.date or _date(message)
        docs.extend(children)
    for reason in unreadable:
        log.warning("%s: attachment left out: %s", name, reason)
    return docs, unreadable
