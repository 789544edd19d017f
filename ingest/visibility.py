"""Can a reader see this text? Colours, contrast and sizes shared by the HTML, DOCX and PDF
readers (issue 26 item 4: hidden text is the classic way to slip false facts into a file).

Text is taken as unseen when it is drawn in (nearly) its background's colour, nearly
transparent, or too small to read. The thresholds are perceptual, not fitted: WCAG asks for a
contrast ratio of 4.5 for body text and counts 1.0 as none; below ``MIN_CONTRAST`` (white on
``#eeeeee``) a reader sees nothing, while light grey captions (``#cccccc`` on white is 1.6)
stay. A 4 px (3 pt) font is the smallest a reader can still make out on screen or in print.
"""

from __future__ import annotations

import colorsys
import re

RGBA = tuple[float, float, float, float]  # channels 0..1, alpha 0..1

MIN_CONTRAST = 1.2
MIN_ALPHA = 0.1  # text at 10% opacity or less is a smudge at best
MIN_FONT_PX = 4.0
WHITE: RGBA = (1.0, 1.0, 1.0, 1.0)

NAMED: dict[str, RGBA] = {
    "white": WHITE,
    "black": (0.0, 0.0, 0.0, 1.0),
    "red": (1.0, 0.0, 0.0, 1.0),
    "transparent": (0.0, 0.0, 0.0, 0.0),
    "snow": (1.0, 250 / 255, 250 / 255, 1.0),
    "whitesmoke": (245 / 255, 245 / 255, 245 / 255, 1.0),
    "ivory": (1.0, 1.0, 240 / 255, 1.0),
    "ghostwhite": (248 / 255, 248 / 255, 1.0, 1.0),
    "floralwhite": (1.0, 250 / 255, 240 / 255, 1.0),
    "mintcream": (245 / 255, 1.0, 250 / 255, 1.0),
    "azure": (240 / 255, 1.0, 1.0, 1.0),
}
_FUNCTION = re.compile(r"^(rgba?|hsla?)\((.*)\)$")
_PX_PER = {"px": 1.0, "pt": 4 / 3, "pc": 16.0, "in": 96.0, "cm": 96 / 2.54, "mm": 96 / 25.4}
_PX_PER |= {"em": 16.0, "rem": 16.0, "%": 0.16, "": 1.0, "q": 96 / 101.6}


def css_color(value: str) -> RGBA | None:
    """A CSS colour (hex, ``rgb()``/``rgba()``/``hsl()``/``hsla()`` in comma or space syntax,
    a few names); None when we can't tell (``currentColor``, ``var()``, unknown names)."""
    value = value.strip().lower()
    if value in NAMED:
        return NAMED[value]
    if m := re.fullmatch(r"#([0-9a-f]{3,4}|[0-9a-f]{6}|[0-9a-f]{8})", value):
        digits = m.group(1)
        if len(digits) <= 4:
            digits = "".join(ch * 2 for ch in digits)
        channels = [int(digits[i : i + 2], 16) / 255 for i in range(0, len(digits), 2)]
        return (*channels[:3], channels[3] if len(channels) == 4 else 1.0)  # type: ignore[return-value]
    m = _FUNCTION.match(value)
    if not m:
        return None
    parts = [p for p in re.split(r"[\s,/]+", m.group(2)) if p]
    try:
        numbers = [_number(p) for p in parts]
    except ValueError:
        return None
    if len(numbers) not in (3, 4):
        return None
    alpha = min(1.0, numbers[3][0] / (100 if numbers[3][1] else 1)) if len(numbers) == 4 else 1.0
    if m.group(1).startswith("rgb"):
        rgb = [min(1.0, n / (100 if pct else 255)) for n, pct in numbers[:3]]
        return (rgb[0], rgb[1], rgb[2], alpha)
    hue = (numbers[0][0] % 360) / 360
    sat, light = (min(1.0, n / 100) for n, _ in numbers[1:3])
    r, g, b = colorsys.hls_to_rgb(hue, light, sat)
    return (r, g, b, alpha)


def _number(text: str) -> tuple[float, bool]:
    """A number and whether it was a percentage (``deg`` dropped for hues)."""
    pct = text.endswith("%")
    return float(text.rstrip("%").removesuffix("deg")), pct


def luminance(color: RGBA) -> float:
    """WCAG relative luminance of an opaque colour."""

    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in color[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(fg: RGBA, bg: RGBA) -> float:
    """WCAG contrast ratio (1 = none, 21 = black on white) of ``fg`` drawn over ``bg``."""
    alpha = fg[3]
    seen = tuple(alpha * f + (1 - alpha) * b for f, b in zip(fg[:3], bg[:3], strict=True))
    hi, lo = sorted((luminance((*seen, 1.0)), luminance(bg)), reverse=True)  # type: ignore[arg-type]
    return (hi + 0.05) / (lo + 0.05)


def unseen(fg: RGBA, bg: RGBA = WHITE) -> bool:
    """True when text in ``fg`` over ``bg`` can't be seen: too faint or too transparent."""
    return fg[3] <= MIN_ALPHA or contrast(fg, bg) < MIN_CONTRAST


def font_px(value: str) -> float | None:
    """A CSS font size in pixels (16 px to the em); None for keywords and what we can't read."""
    m = re.fullmatch(r"\s*([\d.]+)\s*([a-z%]*)\s*", value.lower())
    if not m or m.group(2) not in _PX_PER:
        return None
    try:
        return float(m.group(1)) * _PX_PER[m.group(2)]
    except ValueError:
        return None
