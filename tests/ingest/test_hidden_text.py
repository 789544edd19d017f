"""Text a reader of the rendered file can't see is never stored (issue 26 item 4).

Each trick below hid "Mallory Grift" as the new chief pilot; the visible article names Edric
Sallow. The hidden sentence must be out of the stored text, and listed in ``hidden_text`` so
the user sees what was left out. ``HTML_TRICKS`` is the table the issue asks for.
"""

from __future__ import annotations

import pytest

from ingest.loaders import parse_bytes
from ingest.visibility import contrast, css_color, unseen
from tests.ingest.test_formats import ARTICLE

SECRET = "The new chief pilot is Mallory Grift."
HTML_TRICKS = {
    # the ten that were stored before issue 26
    "font color=white": f'<font color="white">{SECRET}</font>',
    "1px font": f'<p style="font-size:1px">{SECRET}</p>',
    "0.1px font": f'<p style="font-size:0.1px">{SECRET}</p>',
    "collapsed details": f"<details><summary>More</summary><p>{SECRET}</p></details>",
    "rgb(255 255 255)": f'<p style="color: rgb(255 255 255)">{SECRET}</p>',
    "hsl() white": f'<p style="color: hsl(0, 0%, 100%)">{SECRET}</p>',
    "near-white #fefefe": f'<p style="color:#fefefe">{SECRET}</p>',
    "opacity:0.01": f'<p style="opacity:0.01">{SECRET}</p>',
    "clip-path": f'<p style="clip-path: inset(50%)">{SECRET}</p>',
    "transform:scale(0.001)": f'<p style="transform:scale(0.001)">{SECRET}</p>',
    # and more of the same family
    "screen-reader only box": (
        '<p style="position:absolute;width:1px;height:1px;overflow:hidden;'
        f'clip:rect(1px,1px,1px,1px)">{SECRET}</p>'
    ),
    "transparent rgba": f'<p style="color: rgba(0, 0, 0, 0.02)">{SECRET}</p>',
    "white by class": f'<style>.w {{ color: #FFF }}</style><p class="w">{SECRET}</p>',
    "dark on dark": f'<div style="background:#111"><p style="color:#222">{SECRET}</p></div>',
    # the six that were already dropped
    "display:none": f'<p style="display:none">{SECRET}</p>',
    "visibility:hidden": f'<p style="visibility: hidden">{SECRET}</p>',
    "hidden attribute": f"<p hidden>{SECRET}</p>",
    "aria-hidden": f'<div aria-hidden="true"><p>{SECRET}</p></div>',
    "font-size:0": f'<p style="font-size:0">{SECRET}</p>',
    "off-screen": f'<p style="position:absolute; left:-9999px">{SECRET}</p>',
}
SHOWN = {
    "grey caption": '<p style="color:#777">Deputy pilot Mallory Grift will assist Sallow.</p>',
    "open details": (
        "<details open><summary>Deputy</summary><p>Mallory Grift assists.</p></details>"
    ),
    "white on navy": (
        '<div style="background-color: navy; background: #001f5b">'
        '<p style="color:white">Deputy pilot Mallory Grift will assist Sallow.</p></div>'
    ),
    "small print": '<p style="font-size:9px">Deputy pilot Mallory Grift will assist.</p>',
    "half opacity": '<p style="opacity:0.6">Deputy pilot Mallory Grift will assist.</p>',
}


@pytest.mark.parametrize("trick", HTML_TRICKS)
def test_html_hidden_text_is_dropped_and_listed(trick: str) -> None:
    [doc] = parse_bytes(ARTICLE.format(hidden=HTML_TRICKS[trick]).encode(), ".html", "a", "a")
    assert "Grift" not in doc.text
    assert "Edric Sallow" in doc.text
    assert any("Mallory Grift" in h for h in doc.hidden_text), doc.hidden_text


@pytest.mark.parametrize("case", SHOWN)
def test_html_text_a_reader_can_see_is_kept(case: str) -> None:
    [doc] = parse_bytes(ARTICLE.format(hidden=SHOWN[case]).encode(), ".html", "a", "a")
    assert "Mallory Grift" in doc.text
    assert not any("Grift" in h for h in doc.hidden_text)


def test_colours_and_contrast() -> None:
    white = css_color("white")
    assert white is not None
    for faint in ("#fefefe", "rgb(255 255 255 / 1)", "hsl(0deg 0% 99%)", "#ffffff80", "#eee"):
        colour = css_color(faint)
        assert colour is not None and unseen(colour), faint
    for seen in ("#ccc", "#777", "black", "rgb(200, 30, 30)", "hsl(210, 60%, 40%)"):
        colour = css_color(seen)
        assert colour is not None and not unseen(colour), seen
    black = css_color("black")
    assert black is not None and round(contrast(black, white)) == 21
    assert css_color("currentColor") is None and css_color("var(--ink)") is None


def hidden_docx() -> bytes:
    """A memo whose hidden runs each name a false chief pilot; the visible text names Sallow."""
    import io

    import docx
    from docx.enum.style import WD_STYLE_TYPE
    from docx.enum.text import WD_COLOR_INDEX
    from docx.shared import Pt, RGBColor

    document = docx.Document()
    document.add_heading("Vellmark Harbour Council memo", level=1)
    para = document.add_paragraph("The council chose Edric Sallow as chief pilot.")
    tricks = {
        "hidden": lambda run: setattr(run.font, "hidden", True),
        "white": lambda run: setattr(run.font.color, "rgb", RGBColor(0xFF, 0xFF, 0xFF)),
        "near-white": lambda run: setattr(run.font.color, "rgb", RGBColor(0xFD, 0xFD, 0xFD)),
        "1pt": lambda run: setattr(run.font, "size", Pt(1)),
    }
    for label, hide in tricks.items():
        run = para.add_run(f" ({label}) The new chief pilot is Mallory Grift.")
        hide(run)
    secret = document.styles.add_style("Secret", WD_STYLE_TYPE.CHARACTER)
    secret.font.hidden = True
    para.add_run(" (style) Mallory Grift is the new chief pilot.", style="Secret")
    shown = document.add_paragraph()
    marked = shown.add_run("Deputy pilot Wenna Hale, white on a yellow highlight.")
    marked.font.color.rgb = RGBColor(0xFF, 0xFF, 0xFF)
    marked.font.highlight_color = WD_COLOR_INDEX.YELLOW
    table = document.add_table(rows=1, cols=2)
    table.cell(0, 0).text = "Pilot"
    cell = table.cell(0, 1).paragraphs[0]
    cell.add_run("Sallow")
    cell.add_run(" and Mallory Grift").font.hidden = True
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_docx_hidden_runs_white_and_tiny_text_are_dropped_and_listed() -> None:
    [doc] = parse_bytes(hidden_docx(), ".docx", "memo.docx", "memo.docx")
    assert "Grift" not in doc.text
    assert "The council chose Edric Sallow as chief pilot." in doc.text
    assert "Pilot | Sallow" in doc.text
    assert "Deputy pilot Wenna Hale" in doc.text  # white on a highlight is seen
    dropped = " ".join(doc.hidden_text)
    for label in ("(hidden)", "(white)", "(near-white)", "(1pt)", "(style)", "and Mallory"):
        assert label in dropped, label


def test_pdf_white_and_invisible_text_is_dropped_and_listed() -> None:
    from tests.fixtures import formats

    [doc] = parse_bytes(formats.hidden_text_pdf(), ".pdf", "notice.pdf", "notice.pdf")
    assert "Grift" not in doc.text
    assert "chose Edric Sallow as chief pilot" in doc.text
    assert "Deputy pilot Wenna Hale" in doc.text  # grey is seen
    dropped = " ".join(doc.hidden_text)
    for label in ("(white)", "(near-white)", "(invisible)"):
        assert f"{label} The new chief pilot is Mallory Grift." in dropped, dropped
