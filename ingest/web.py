"""Saved web pages -> the article's main text and metadata, never text a reader can't see.

Two steps, each one job:
1. ``shown_and_hidden`` drops what a browser would not show: ``<script>``, ``<style>``,
   ``<template>``, ``<noscript>``, elements that are ``hidden``/``aria-hidden``, the body of a
   closed ``<details>``, styled ``display:none``, ``visibility:hidden``, zero size, a font under
   4 px, opacity of 10% or less, scaled to under a tenth, clipped away (``clip``,
   ``clip-path``, a 1-pixel box), pushed off-screen, or written in (nearly) their background's
   colour (``ingest.visibility``; ``<font color>``, inline styles and simple ``<style>`` rules
   by tag, class or id). Hidden text is the classic way to slip instructions or false facts
   into a page; what was dropped is kept apart (``SourceDocument.hidden_text``) for the user.
2. trafilatura extracts the main text (no navigation, footers, cookie banners) and the
   metadata (title, date from ``article:published_time``/``<time>``/JSON-LD, author, site
   name). Pages too short for it to judge fall back to all visible text.
Output is plain text: markup never reaches stored text, titles or sources.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any

from ingest.dates import iso_date
from ingest.loaders import LoadError, SourceDocument, decode_text, parse_html
from ingest.visibility import MIN_ALPHA, MIN_FONT_PX, RGBA, WHITE, css_color, font_px, unseen

INVISIBLE_TAGS = frozenset(
    {"script", "style", "template", "noscript", "iframe", "object", "embed", "svg", "canvas"}
)
CODE_TAGS = frozenset({"script", "style", "svg", "canvas", "iframe", "object", "embed"})
_HIDING = [
    re.compile(p)
    for p in (
        r"display\s*:\s*none",
        r"visibility\s*:\s*(?:hidden|collapse)",
        r"(?<![-\w])(?:width|height|max-height|max-width)\s*:\s*0(?:px)?\s*(?:;|$|!)",
        r"(?:text-indent|left|top|margin-left)\s*:\s*-\d{3,}",
        r"clip\s*:\s*rect\(\s*[01](?:px)?[\s,]+[01](?:px)?[\s,]+[01](?:px)?[\s,]+[01](?:px)?\s*\)",
        r"clip-path\s*:\s*(?:circle|ellipse)\(\s*0(?:px|%)?[\s)]",
        r"clip-path\s*:\s*inset\(\s*(?:[5-9]\d|\d{3,})%",
    )
]
_VALUE = r"(?:^|[;\s]){}\s*:\s*([^;!]+)"
_SCALE = re.compile(r"scale(?:x|y|z|3d)?\(([^)]*)\)")
_ONE_PIXEL = re.compile(r"(?<![-\w])(?:width|height)\s*:\s*1px")
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_RULE = re.compile(r"([^{}]+)\{([^{}]*)\}")
_SIMPLE_SELECTOR = re.compile(r"^(?:[a-z][a-z0-9]*|\.[\w-]+|#[\w-]+)$", re.I)

logging.getLogger("trafilatura").setLevel(logging.ERROR)
logging.getLogger("htmldate").setLevel(logging.ERROR)


def read_html(data: bytes, doc_id: str, name: str) -> Iterator[SourceDocument]:
    text, meta, hidden = html_text(decode_text(data, name), name)
    yield SourceDocument(
        doc_id=doc_id,
        title=meta.get("title") or "",
        text=text,
        date=meta.get("date"),
        source=meta.get("sitename") or meta.get("author"),
        url=meta.get("url"),
        path=name,
        extra={"author": meta["author"]} if meta.get("author") else {},
        hidden_text=hidden,
    )


def html_text(html: str, name: str) -> tuple[str, dict[str, str], list[str]]:
    """The main visible text of an HTML page, its metadata (title, date, author, ...), and
    the hidden text that was left out."""
    import trafilatura

    if not html.strip():
        return "", {}, []
    shown, hidden = shown_and_hidden(html, name)
    meta: dict[str, str] = {}
    try:
        found = trafilatura.bare_extraction(
            shown,
            with_metadata=True,
            include_comments=False,
            include_tables=True,
            include_images=False,
            include_links=False,
            deduplicate=False,
            as_dict=True,
            # Metadata and markup only (no guessing from body text); briefings may be dated
            # later than this machine's clock, which htmldate would otherwise reject.
            date_extraction_params={
                "extensive_search": False,
                "original_date": True,
                "max_date": "2199-12-31",
            },
        )
    except Exception:  # trafilatura gives up on some malformed trees; fall back below
        found = None
    if isinstance(found, dict):
        meta = _metadata(found)
    main = (found or {}).get("text") or "" if isinstance(found, dict) else ""
    # Trafilatura's heuristics need some text to judge; a tiny page is taken whole.
    [fallback] = parse_html(shown, "html", name)
    if len(main) < 0.25 * len(fallback.text) or not main.strip():
        main = fallback.text
    meta.setdefault("title", fallback.title)
    if not meta["title"]:
        meta["title"] = fallback.title
    return main, meta, hidden


def _metadata(found: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key in ("title", "author", "sitename", "url", "date"):
        value = found.get(key)
        if isinstance(value, str) and value.strip():
            out[key] = " ".join(value.split())
    if "date" in out:
        date = iso_date(out["date"])
        if date:
            out["date"] = date
        else:
            del out["date"]
    return out


def visible_html(html: str, name: str) -> str:
    """The page serialized again without any element a browser would not display."""
    return shown_and_hidden(html, name)[0]


def shown_and_hidden(html: str, name: str) -> tuple[str, list[str]]:
    """The page without what a browser would not display, and the text that was dropped
    (code such as scripts and styles aside), so the user can see what was left out."""
    import lxml.html
    from lxml import etree

    html = _XML_DECLARATION.sub("", html, count=1)  # lxml refuses one in a str
    try:
        root = lxml.html.document_fromstring(
            html, parser=lxml.html.HTMLParser(remove_comments=True, remove_pis=True)
        )
    except (etree.ParserError, ValueError) as exc:
        if "empty" in str(exc).lower():
            return "<html></html>", []
        raise LoadError(f"{name}: unreadable HTML ({exc})") from exc
    rules = _hiding_rules(root)
    hidden: list[str] = []
    for details in list(root.iter("details")):  # collapsed: only its summary shows
        if "open" not in details.attrib:
            hidden.append(" ".join((details.text or "").split()))
            details.text = None
            for child in list(details):
                if isinstance(child.tag, str) and child.tag.lower() == "summary":
                    hidden.append(" ".join((child.tail or "").split()))
                    child.tail = None
                    continue
                hidden.append(" ".join(_text_of(child).split()))
                child.drop_tree()
                hidden.append(" ".join((child.tail or "").split()))
    doomed = [el for el in root.iter() if isinstance(el.tag, str) and _hidden(el, rules)]
    for el in doomed:
        if el.getparent() is not None:
            if el.tag.lower() not in CODE_TAGS:
                hidden.append(" ".join(_text_of(el).split()))
            el.drop_tree()  # keeps the tail text, which belongs to the parent
    return lxml.html.tostring(root, encoding="unicode"), [h for h in hidden if h]


def _text_of(el: Any) -> str:
    """An element's text without its tail (``text_content`` of a dropped tree)."""
    return "".join(t for t in el.itertext() if t) if isinstance(el.tag, str) else ""


def _hidden(el: Any, rules: dict[str, str]) -> bool:
    tag = el.tag.lower()
    if tag in INVISIBLE_TAGS:
        return True
    attrib = el.attrib
    if "hidden" in attrib or attrib.get("aria-hidden", "").strip().lower() == "true":
        return True
    if tag == "input" and attrib.get("type", "").lower() == "hidden":
        return True
    style = _declarations(el, rules)
    if any(p.search(style) for p in _HIDING) or _too_small(style):
        return True
    color = _color(style, "color")
    if color is None and tag == "font" and attrib.get("color"):
        color = css_color(attrib["color"])
    return color is not None and unseen(color, _background(el, rules))


def _too_small(style: str) -> bool:
    """A font under ``MIN_FONT_PX``, opacity at most ``MIN_ALPHA``, a scale that shrinks it
    to a tenth, or a 1-pixel box that clips its overflow (the "screen-reader only" trick)."""
    size = _value(style, "font-size")
    if size and (px := font_px(size)) is not None and px < MIN_FONT_PX:
        return True
    if (opacity := _value(style, "opacity")) is not None:
        try:
            value = float(opacity.rstrip("%")) / (100 if opacity.endswith("%") else 1)
        except ValueError:
            value = 1.0
        if value <= MIN_ALPHA:
            return True
    for scale in _SCALE.findall(style):
        for factor in re.split(r"[\s,]+", scale.strip()):
            try:
                if abs(float(factor)) < MIN_ALPHA:
                    return True
            except ValueError:
                continue
    return bool(_ONE_PIXEL.search(style)) and "overflow" in style and "hidden" in style


def _value(style: str, prop: str) -> str | None:
    match = re.search(_VALUE.format(re.escape(prop)), style)
    return match.group(1).strip() if match else None


def _declarations(el: Any, rules: dict[str, str]) -> str:
    """The element's own declarations: matching simple rules, then its inline style."""
    keys = [el.tag.lower()]
    keys += ["." + c for c in el.attrib.get("class", "").split()]
    if el.attrib.get("id"):
        keys.append("#" + el.attrib["id"])
    found = [rules[k] for k in keys if k in rules]
    return ";".join([*found, el.attrib.get("style", "")]).lower()


def _background(el: Any, rules: dict[str, str]) -> RGBA:
    """The nearest opaque background colour on the element or an ancestor (white by
    default); a background we can't read (an image, a gradient) counts as white."""
    node = el
    while node is not None:
        if isinstance(node.tag, str):
            style = _declarations(node, rules)
            bg = _color(style, "background-color") or _color(style, "background")
            if bg is None and node.attrib.get("bgcolor"):
                bg = css_color(node.attrib["bgcolor"])
            if bg is not None and bg[3] > MIN_ALPHA:
                return bg
        node = node.getparent()
    return WHITE


def _color(style: str, prop: str) -> RGBA | None:
    value = _value(style, prop)
    if value is None:
        return None
    if prop == "background":  # a shorthand: the colour is one of its words
        for word in re.findall(r"#[0-9a-f]+|\w+\([^)]*\)|[a-z]+", value):
            if (found := css_color(word)) is not None:
                return found
        return None
    return css_color(value)


def _hiding_rules(root: Any) -> dict[str, str]:
    """Declarations of ``<style>`` rules whose selector is one tag, class or id."""
    rules: dict[str, str] = {}
    for style in root.iter("style"):
        css = re.sub(r"/\*.*?\*/", "", style.text_content(), flags=re.S)
        for selectors, body in _RULE.findall(css):
            for selector in selectors.split(","):
                selector = selector.strip().lower()
                if _SIMPLE_SELECTOR.match(selector):
                    rules[selector] = rules.get(selector, "") + ";" + body
    return rules
