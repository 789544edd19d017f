"""Strip page boilerplate and lift credit lines into metadata.

Blog exports end with chrome such as "No comments:" / "Post a Comment"; retrieval would
otherwise match it and answers would quote it. Credit lines ("Based On ANI Report") carry the
real source, so they become ``source`` metadata instead of text.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import replace

from ingest.loaders import SourceDocument

BOILERPLATE = re.compile(
    r"""^(?:
        no\ comments?:?
      | \d+\ comments?:?
      | post\ a\ comment
      | newer\ post | older\ post | home
      | subscribe\ to:?.*
      | share\ this(?:\ post|\ article)?:?
      | posted\ by\ .{1,60}
      | labels?:.{0,200}
      | email\ this | blogthis! | share\ to\ (?:twitter|facebook|pinterest)
      | (?:read|see)\ more:?
      | advertisement
    )$""",
    re.IGNORECASE | re.VERBOSE,
)
CREDIT = re.compile(
    r"^(?:based\s+on|(?:with\s+)?inputs?\s+from|source:?)\s+(?:an?\s+)?(?P<src>[\w .&'-]{1,60}?)"
    r"(?:\s+reports?)?\.?$",
    re.IGNORECASE,
)
_SPACES = re.compile(r"[ \t\u00a0]+")


def clean_document(doc: SourceDocument) -> SourceDocument:
    """Return the document with normalized whitespace, trailing chrome removed, source lifted."""
    text = unicodedata.normalize("NFC", doc.text)
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    source = doc.source
    # Chrome and credits sit at the end of an article: peel lines off the tail until content.
    while lines:
        tail = lines[-1]
        if not tail or BOILERPLATE.match(tail):
            lines.pop()
            continue
        credit = CREDIT.match(tail)
        if credit:
            source = source or credit.group("src").strip()
            lines.pop()
            continue
        break
    body = "\n".join(lines).strip()
    body = re.sub(r"\n{3,}", "\n\n", body)
    title = _SPACES.sub(" ", unicodedata.normalize("NFC", doc.title)).strip()
    return replace(doc, title=title, text=body, source=source)
