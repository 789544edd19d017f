"""Saved web pages -> the article's main text and metadata, never text a reader can't see.

Two steps, each one job:
1. ``visible_html`` drops what a browser would not show: ``<script>``, ``<style>``,
   ``<template>``, ``<noscript>``, elements that are ``hidden``/``aria-hidden``, styled
   ``display:none``, ``visibility:hidden``, zero size or opacity, pushed off-screen, or written
   in their background's colour (inline styles and simple ``<style>`` rules by tag, class or
   id). Hidden text is the classic way to slip instructions or false facts into a page.
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

INVISIBLE_TAGS = frozenset(
    {"script", "style", "template", "noscript", "iframe", "object", "embed", "svg", "canvas"}
)
_HIDING = [
    re.compile(p)
    for p in (
        r"display\s*:\s*none",
        r"visibility\s*:\s*(?:hidden|collapse)",
        r"(?<![-\w])opacity\s*:\s*0(?:\.0*)?\s*(?:;|$|!)",
        r"font-size\s*:\s*0(?:\.0*)?\s*(?:px|pt|em|rem|%)?\s*(?:;|$|!)",
        r"(?<![-\w])(?:width|height|max-height|max-width)\s*:\s*0(?:px)?\s*(?:;|$|!)",
        r"(?:text-indent|left|top|margin-left)\s*:\s*-\d{3,}",
        r"clip\s*:\s*rect\(\s*0",
        r"transform\s*:\s*scale\(\s*0\s*\)",
    )
]
_NAMED = {
    "white": "#ffffff",
    "black": "#000000",
    "red": "#ff0000",
    "transparent": "transparent",
}
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_RULE = re.compile(r"([^{}]+)\{([^{}]*)\}")
_SIMPLE_SELECTOR = re.compile(r"^(?:[a-z][a-z0-9]*|\.[\w-]+|#[\w-]+)$", re.I)

logging.getLogger("trafilatura").setLevel(logging.ERROR)
logging.getLogger("htmldate").setLevel(logging.ERROR)


def read_html(data: bytes, doc_id: str, name: str) -> Iterator[SourceDocument]:
    text, meta = html_text(decode_text(data, name), name)
    yield SourceDocument(
        doc_id=doc_id,
        title=meta.get("title") or "",
        text=text,
        date=meta.get("date"),
        source=meta.get("sitename") or meta.get("author"),
        url=meta.get("url"),
        path=name,
        extra={"author": meta["author"]} if meta.get("author") else {},
    )


def html_text(html: str, name: str) -> tuple[str, dict[str, str]]:
    """The main visible text of an HTML page and its metadata (title, date, author, ...)."""
    import trafilatura

    if not html.strip():
        return "", {}
    shown = visible_html(html, name)
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
    return main, meta


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
    import lxml.html
    from lxml import etree

    html = _XML_DECLARATION.sub("", html, count=1)  # lxml refuses one in a str
    try:
        root = lxml.html.document_fromstring(
            html, parser=lxml.html.HTMLParser(remove_comments=True, remove_pis=True)
        )
    except (etree.ParserError, ValueError) as exc:
        if "empty" in str(exc).lower():
            return "<html></html>"
        raise LoadError(f"{name}: unreadable HTML ({exc})") from exc
    rules = _hiding_rules(root)
    doomed = [el for el in root.iter() if isinstance(el.tag, str) and _hidden(el, rules)]
    for el in doomed:
        if el.getparent() is not None:
            el.drop_tree()  # keeps the tail text, which belongs to the parent
    return lxml.html.tostring(root, encoding="unicode")


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
    if any(p.search(style) for p in _HIDING):
        return True
    color = _color(style, "color")
    return color is not None and color == _background(el, rules)


def _declarations(el: Any, rules: dict[str, str]) -> str:
    """The element's own declarations: matching simple rules, then its inline style."""
    keys = [el.tag.lower()]
    keys += ["." + c for c in el.attrib.get("class", "").split()]
    if el.attrib.get("id"):
        keys.append("#" + el.attrib["id"])
    found = [rules[k] for k in keys if k in rules]
    return ";".join([*found, el.attrib.get("style", "")]).lower()


def _background(el: Any, rules: dict[str, str]) -> str:
    """The nearest background colour set on the element or an ancestor (white by default)."""
    node = el
    while node is not None:
        if isinstance(node.tag, str):
            style = _declarations(node, rules)
            bg = _color(style, "background-color") or _color(style, "background")
            if bg is None and node.attrib.get("bgcolor"):
                bg = _normal(node.attrib["bgcolor"])
            if bg and bg != "transparent":
                return bg
        node = node.getparent()
    return "#ffffff"


def _color(style: str, prop: str) -> str | None:
    match = re.search(rf"(?:^|[;\s]){prop}\s*:\s*([^;!]+)", style)
    return _normal(match.group(1)) if match else None


def _normal(value: str) -> str | None:
    """A colour as ``#rrggbb`` (hex, rgb(), a few names); None if we can't tell."""
    value = value.strip().lower().split()[0] if value.strip() else ""
    if value in _NAMED:
        return _NAMED[value]
    if re.fullmatch(r"#[0-9a-f]{3}", value):
        return "#" + "".join(ch * 2 for ch in value[1:])
    if re.fullmatch(r"#[0-9a-f]{6}", value):
        return value
    if m := re.fullmatch(
        r"rgba?\((\d+),\s*(\d+),\s*(\d+)(?:,\s*([\d.]+))?\)", value.replace(" ", "")
    ):
        if m.group(4) is not None and float(m.group(4)) == 0:
            return "transparent"
        return "#" + "".join(f"{min(int(g), 255):02x}" for g in m.groups()[:3])
    return None


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
