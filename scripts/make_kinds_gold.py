"""Build ``eval/gold/kinds.jsonl`` and its split (issue 28) from the fictional briefings.

Eight kinds of question, each gold item derived mechanically or from a table picked by hand,
so it can be checked by hand:

- ``documents``: "Which briefings mention X?" for names that stand in one or several
  briefings; the gold documents are every file of ``eval/gold/briefings/`` whose body
  contains X (case-insensitive), and a name no briefing has is unanswerable.
- ``parts``: two questions of ``eval/gold/briefings.jsonl`` about the same briefing asked as
  one ("... , and who ...?"); each part keeps its own gold answers, and an answerable question
  joined with a near-miss about the same briefing wants that part refused.
- ``latest``: "What is the latest on X?"; the gold source is the newest briefing (by its
  front-matter date) whose body names X, and it must be the first one cited.
- ``summary``: "Summarize X" for eighteen briefings, with two or three key sentences picked by
  hand (``SUMMARIES``) that the summary must quote.
- ``list``: "Which ... / Name the ..." questions whose answer is several items a briefing
  enumerates (``LISTS``); ``answers`` holds the list as the text writes it (items gathered from
  several sentences are joined with commas and "and"), ``items`` each item verbatim. Three ask
  for a list about a name no briefing has and are unanswerable.
- ``reason``: "Why ...?" and "How ...?" (a method) questions (``REASONS``); the key sentence
  states the reason or method and ``answers`` holds its key phrase. Two ask why about something
  a briefing reports without saying why, and are unanswerable.
- ``compare``: "Compare X and Y" (``COMPARES``); each side has the sentences that state it, and
  its name stands verbatim in them.
- ``timeline``: "Give me a timeline of X" for names in several briefings of different dates;
  the gold sources are every briefing whose body names X, oldest first.

Key sentences are cut by ``rag.text.sentence_spans`` from the briefing's body and picked by
index. An item's split is its source items' (``eval/splits/briefings.json``, grouped by
briefing), so no test item is built from a dev question; an item drawn from briefings of both
splits, or from none, alternates dev/test by its index (``timeline`` always does, as ``latest``).
Run from the repository root:

    python scripts/make_kinds_gold.py
"""

from __future__ import annotations

import json
import re
import sys
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BRIEFINGS = ROOT / "eval/gold/briefings"
# Names that stand in several briefings, in one, and in none (fictional, unanswerable).
TOPICS = (
    "Ostrelle",
    "Harlow Basin",
    "Gannet Sea",
    "Aldermoor",
    "Ferrin",
    "Lusk Institute",
    "Aldous Rail Group",
    "Marrow Coast",
    "Anselm Koivu",
    "Mireille Fontaine",
    "Varn Grid Company",
    "Kestrel Energy",
    "Halden",
    "Corran",
    "Keld",
    "Oskarsholm",
    "Dravian National Assembly",
    "Lindqvist Regional Summit",
    "Ilse Darrow",
    "Tobias Renwick",
    "Verity",
    "Orbis",
    "Skarn Tunnel",
    "Solène Arkwright",
    "Perrin Quist",
    "Vantor Shipyards",
)
WORDINGS = (
    "Which briefings mention {}?",
    "Which documents mention {}?",
    "In which reports is {} mentioned?",
    "List the briefings that mention {}",
)


def body(path: Path) -> str:
    """The briefing's text without its front matter (source and title are not mentions)."""
    text = path.read_text(encoding="utf-8")
    return re.sub(r"\A---\n.*?\n---\n", "", text, flags=re.S)


def documents_items(split_of: dict[str, str]) -> list[tuple[dict, str]]:
    """ "Which briefings mention X?": every briefing whose body names X."""
    texts = {p.name: body(p).lower() for p in sorted(BRIEFINGS.glob("*.md"))}
    out = []
    for i, topic in enumerate(TOPICS):
        gold = sorted(name for name, text in texts.items() if topic.lower() in text)
        item = {
            "id": f"kinds-doc-{i + 1:03d}",
            "question": WORDINGS[i % len(WORDINGS)].format(topic),
            "answers": [topic] if gold else [],
            "sources": gold,
            "answerable": bool(gold),
            "category": "documents",
        }
        # A name in one briefing goes with that briefing's split; several or none: by index.
        split = split_of.get(gold[0], "") if len(gold) == 1 else ("dev", "test")[i % 2]
        out.append((item, split))
    return out


LATEST = (
    ("What is the latest on {}?", "Ostrelle"),
    ("What's new with {}?", "Harlow Basin"),
    ("What is the most recent news on {}?", "Gannet Sea"),
    ("Latest news about {}", "Aldermoor"),
    ("What is the latest on {}?", "Ferrin"),
    ("What's new with {}?", "Marrow Coast"),
    ("What is the latest on {}?", "Mireille Fontaine"),
    ("What is the most recent news on {}?", "Corran"),
    ("What's new with {}?", "Keld"),
    ("What is the latest on {}?", "Oskarsholm"),
    ("Latest news about {}", "Dravian National Assembly"),
    ("What is the latest on {}?", "Kestrel Energy"),
    ("What's new with {}?", "Perrin Quist"),
)


def dated(path: Path) -> str:
    """The briefing's front-matter date (ISO, so it sorts as text)."""
    m = re.search(r"^date:\s*(\S+)", path.read_text(encoding="utf-8"), flags=re.M)
    return m.group(1) if m else ""


def latest_items() -> list[tuple[dict, str]]:
    """ "The latest on X": the gold source is the newest briefing that names X."""
    paths = sorted(BRIEFINGS.glob("*.md"))
    out = []
    for i, (wording, topic) in enumerate(LATEST):
        naming = [p for p in paths if topic.lower() in body(p).lower()]
        newest = max(naming, key=dated).name if naming else None
        item = {
            "id": f"kinds-latest-{i + 1:03d}",
            "question": wording.format(topic),
            "answers": [topic] if newest else [],
            "sources": [newest] if newest else [],
            "answerable": bool(newest),
            "category": "latest",
        }
        out.append((item, ("dev", "test")[i % 2]))
    return out


# "Summarize X": the briefing and its key sentences (by position among the body's sentences,
# rag.text.sentence_spans), chosen by hand: what the story is, and its main facts.
SUMMARIES = (
    ("Summarize the Quillon Bridge opening", "quillon-bridge.md", (0, 3, 8)),
    ("What are the key points of the Orbis-3 launch?", "orbis-satellite-launch.md", (0, 1, 2)),
    (
        "What does the briefing say about the Ferrin dock strike?",
        "ferrin-port-strike.md",
        (0, 1, 2),
    ),
    (
        "Give me a summary of the National Museum of Calvania reopening",
        "national-museum-reopening.md",
        (2, 5, 15),
    ),
    ("Summarize the Skarn Tunnel flooding inquiry", "skarn-tunnel-inquiry.md", (4, 8, 35)),
    (
        "What are the key points of the Verity Biologics vaccine plant opening?",
        "verity-vaccine-plant.md",
        (2, 3, 4),
    ),
    ("Summarize the Calder Hills wildfire", "calder-hills-wildfire.md", (0, 1)),
    (
        "What does the briefing say about the Bank of Calvania rate decision?",
        "central-bank-rates.md",
        (0, 1, 5),
    ),
    ("Summarize the Cobalt Loop interview", "cobalt-loop-interview.md", (1, 8, 13)),
    (
        "What are the key points of the Calvanian general election?",
        "calvania-election-wire.md",
        (0, 1, 2),
    ),
    # Added with the list, reason, compare and timeline kinds: eight more briefings.
    ("Summarize the Harlow Basin water compact", "harlow-water-compact.md", (0, 1, 7)),
    ("What are the key points of Dravia's 2032 budget?", "dravia-budget-2032.md", (0, 1, 2)),
    (
        "What does the briefing say about the Gannet Sea herring dispute?",
        "gannet-herring-dispute.md",
        (0, 2, 5),
    ),
    (
        "Give me a summary of the 2031 Lindqvist Regional Summit",
        "lindqvist-summit.md",
        (0, 1, 6),
    ),
    ("Summarize the memo on the Corran interconnector", "kestrel-grid-memo.md", (5, 7, 10)),
    (
        "What are the key points of the Marrow Coast Resilience Review?",
        "marrow-coast-resilience-review.md",
        (6, 8, 9),
    ),
    (
        "What does the briefing say about the proposed merger of the University of Pellis?",
        "pellis-university-merger-memo.md",
        (5, 8, 15),
    ),
    (
        "Give me a summary of the Calvanian Mineral Licensing Board's October 2031 meeting",
        "mineral-licensing-minutes.md",
        (13, 17, 22),
    ),
)


@cache
def sentences(name: str) -> tuple[str, ...]:
    """The sentences of a briefing's body, as ``rag.text.sentence_spans`` cuts them."""
    sys.path.insert(0, str(ROOT))
    from rag.text import sentence_spans

    text = body(BRIEFINGS / name)
    return tuple(text[start:end] for start, end in sentence_spans(text))


def picked(name: str, picks: tuple[int, ...]) -> list[str]:
    """The sentences of briefing ``name`` at the indices ``picks``."""
    return [sentences(name)[k] for k in picks]


def summary_items(split_of_doc: dict[str, str]) -> list[tuple[dict, str]]:
    """ "Summarize X": the key sentences a summary must quote."""
    out = []
    for i, (question, name, picks) in enumerate(SUMMARIES):
        key = picked(name, picks)
        item = {
            "id": f"kinds-summary-{i + 1:03d}",
            "question": question,
            "answers": key[:1],
            "sources": [name],
            "answerable": True,
            "category": "summary",
            "key_sentences": key,
        }
        out.append((item, split_of_doc.get(name, "test")))
    return out


def split_by(names: list[str], split_of_doc: dict[str, str], i: int) -> str:
    """The split the briefings ``names`` share; briefings of both splits, or none: by index."""
    splits = {split_of_doc.get(name, "test") for name in names}
    return splits.pop() if len(splits) == 1 else ("dev", "test")[i % 2]


# "Which ...?" with several items for answer: the briefing, the list as its text writes it
# (None: the items stand in two or three sentences, and the answer joins them), and the items.
# A list about a name no briefing has (no file) is unanswerable.
LISTS = (
    (
        "Name the founders of Cobalt Loop.",
        "cobalt-loop-interview.md",
        "Yara Nwosu and Piet Halvorsen",
        ("Yara Nwosu", "Piet Halvorsen"),
    ),
    (
        "Which investors took part in Cobalt Loop's latest funding round?",
        "cobalt-loop-interview.md",
        "Northlight Ventures, with the state-backed Dravian Green Investment Fund",
        ("Northlight Ventures", "Dravian Green Investment Fund"),
    ),
    (
        "Which metals does Cobalt Loop say its process recovers from used batteries?",
        "cobalt-loop-interview.md",
        "95 percent of the cobalt and nickel and 80 percent of the lithium",
        ("cobalt", "nickel", "lithium"),
    ),
    (
        "List the Ostrellan ports closed to Dravian trawlers in the herring dispute.",
        "gannet-herring-dispute.md",
        "Saint-Roque, Aubrac and Lisle-sur-Mer",
        ("Saint-Roque", "Aubrac", "Lisle-sur-Mer"),
    ),
    (
        "Name the three working groups set up at the Lindqvist Regional Summit.",
        "lindqvist-summit.md",
        "energy, migration and border health",
        ("energy", "migration", "border health"),
    ),
    (
        "Who represented the three countries at the 2031 Lindqvist Regional Summit?",
        "lindqvist-summit.md",
        None,
        ("Mireille Fontaine", "Anselm Koivu", "Agnieszka Rudd"),
    ),
    (
        "Which members were present at the Calvanian Mineral Licensing Board meeting on"
        " 14 October 2031?",
        "mineral-licensing-minutes.md",
        "Beatrice Umeh (Chair), Dr Henrik Salo, Olamide Carver, Justine Marlowe",
        ("Beatrice Umeh", "Henrik Salo", "Olamide Carver", "Justine Marlowe"),
    ),
    (
        "Which councillors attended the Northmere Planning and Transport Committee on"
        " 22 September 2031?",
        "northmere-council-minutes.md",
        "Cllr Hester Bryce (Chair), Cllr Omar Delacroix, Cllr Wen Liao, Cllr Patrick Oduya,"
        " Cllr Sigrun Hale",
        ("Hester Bryce", "Omar Delacroix", "Wen Liao", "Patrick Oduya", "Sigrun Hale"),
    ),
    (
        "List the council officers in attendance at the Northmere Planning and Transport"
        " Committee meeting.",
        "northmere-council-minutes.md",
        "Dana Whitlock (Director of Transport), Felix Amadi (Senior Planning Officer),"
        " Ruth Kimani (Committee Clerk)",
        ("Dana Whitlock", "Felix Amadi", "Ruth Kimani"),
    ),
    (
        "Who were the two assessors of the Skarn Tunnel inquiry?",
        "skarn-tunnel-inquiry.md",
        "Professor Kalle Nyberg, a tunnelling engineer from the Brevik Technical University,"
        " and Maja Lindqvist",
        ("Kalle Nyberg", "Maja Lindqvist"),
    ),
    (
        "Which members of the train crew gave evidence to the Skarn Tunnel inquiry?",
        "skarn-tunnel-inquiry.md",
        "the train's driver, Elin Haugen, and its conductor, Marius Petrov",
        ("Elin Haugen", "Marius Petrov"),
    ),
    (
        "What were the sources of funding for the National Museum of Calvania's renovation?",
        "national-museum-reopening.md",
        "41 million cordens came from the Ministry of Culture, 15 million cordens from the"
        " Oyelaran Foundation and the rest from other donors and the museum's own reserves",
        ("Ministry of Culture", "Oyelaran Foundation", "other donors", "museum's own reserves"),
    ),
    (
        "Name the four ministries whose budgets Dravia is cutting in 2032.",
        "dravia-budget-2032.md",
        "agriculture, culture, tourism and foreign affairs",
        ("agriculture", "culture", "tourism", "foreign affairs"),
    ),
    (
        "Who are the candidates in the 2032 Ostrellan presidential election named in the"
        " embassy cable?",
        "embassy-cable-varn.md",
        None,
        ("Mireille Fontaine", "Aurèle Danton", "Solène Arkwright"),
    ),
    (
        "Which contractors are working on the Corran interconnector?",
        "kestrel-grid-memo.md",
        None,
        ("Nordhaven Cable Works", "Altamira Power Systems", "Pembrey & Sons"),
    ),
    (
        "In which towns do most of the Marrow Coast's residents live?",
        "marrow-coast-resilience-review.md",
        "Grisby, Henlow Sands and Port Aske",
        ("Grisby", "Henlow Sands", "Port Aske"),
    ),
    (
        "What evidence did the Marrow Coast review panel draw on?",
        "marrow-coast-resilience-review.md",
        "shoreline surveys from 2011 to 2030, aerial photographs, and storm records from the"
        " national weather service",
        ("shoreline surveys", "aerial photographs", "storm records"),
    ),
    (
        "What are the protected areas on the Marrow Coast?",
        "marrow-coast-resilience-review.md",
        "the Grisby Dunes nature reserve and the Keld estuary salt marshes",
        ("Grisby Dunes nature reserve", "Keld estuary salt marshes"),
    ),
    (
        "Which ways of paying for the Marrow Coast programme did the panel consider?",
        "marrow-coast-resilience-review.md",
        "the national budget, a levy on property insurance in coastal districts, and"
        " contributions from the towns concerned",
        ("national budget", "levy on property insurance", "contributions from the towns"),
    ),
    (
        "Which firms designed and built the Quillon Bridge?",
        "quillon-bridge.md",
        None,
        ("Arclight", "Tamsin & Rowe", "Hedlund Bygg"),
    ),
    (
        "Who paid for the Beaumont Cancer Centre?",
        "st-aurelia-annual-report.md",
        "120 million ostrels came from the national health ministry, 40 million ostrels from"
        " the Beaumont family foundation and 26 million ostrels from the Trust's own capital"
        " budget",
        ("national health ministry", "Beaumont family foundation", "Trust's own capital budget"),
    ),
    (
        "Where will the St Aurelia Hospital Trust's recovery plan find its savings?",
        "st-aurelia-annual-report.md",
        "energy efficiency, shared procurement with other Varn hospitals and reduced use of"
        " agency staff",
        ("energy efficiency", "shared procurement", "reduced use of agency staff"),
    ),
    (
        "Which groups attended the opening ceremony of the Verity Biologics plant in Oskarsholm?",
        "verity-vaccine-plant.md",
        "around 200 employees, suppliers and local officials",
        ("employees", "suppliers", "local officials"),
    ),
    (
        "Which vehicles will be exempt from Varn's congestion charge?",
        "interview-mayor-tansy.md",
        "taxis and delivery vans with electric engines",
        ("taxis", "delivery vans"),
    ),
    ("Which countries have signed the Sarn Strait fisheries accord?", None, None, ()),
    ("Who sits on the board of the Brevik Harbour Authority?", None, None, ()),
    ("List the exhibitions on show at the Varn Museum of Modern Art.", None, None, ()),
)


def _listed(items: tuple[str, ...]) -> str:
    """``a, b and c``."""
    return f"{', '.join(items[:-1])} and {items[-1]}"


def list_items(split_of_doc: dict[str, str]) -> list[tuple[dict, str]]:
    """ "Which ...?" with several items for answer, each verbatim in the briefing."""
    out = []
    for i, (question, name, written, items) in enumerate(LISTS):
        text = body(BRIEFINGS / name) if name else ""
        assert all(x in text for x in items) and (written or "") in text, question
        item = {
            "id": f"kinds-list-{i + 1:03d}",
            "question": question,
            "answers": [written or _listed(items)] if name else [],
            "items": list(items),
            "sources": [name] if name else [],
            "answerable": bool(name),
            "category": "list",
        }
        out.append((item, split_by([name] if name else [], split_of_doc, i)))
    return out


# "Why ...?" and "How ...?" (a method): the briefing, the key phrase of the reason (verbatim in
# the key sentences) and the key sentences' indices. No phrase: the briefing reports the thing
# but never says why, and the question is unanswerable (the file only sets its split).
REASONS = (
    (
        "Why did the Harlow Basin dispute break out?",
        "harlow-water-compact.md",
        "Dravia started filling the Mossgate reservoir upstream of the border",
        (5,),
    ),
    (
        "How will the Harlow Basin drought protocol share out cuts in a dry year?",
        "harlow-water-compact.md",
        "both sides will cut their draw by the same percentage",
        (8,),
    ),
    (
        "How does Cobalt Loop recycle used batteries?",
        "cobalt-loop-interview.md",
        "dissolves the crushed battery material in a water-based solution rather than melting it",
        (11,),
    ),
    (
        "Why did dock workers at Ferrin go on strike?",
        "ferrin-port-strike.md",
        "night-shift pay",
        (0,),
    ),
    (
        "How did Lukas Brandvold justify Dravia's 2031 herring quota?",
        "gannet-herring-dispute.md",
        "based on the size of the Dravian fleet and the needs of our fishing towns",
        (3,),
    ),
    (
        "Why could the Mineral Licensing Board not decide Hallam Graphite's application?",
        "mineral-licensing-minutes.md",
        "an updated survey of bat roosts on the site",
        (21,),
    ),
    (
        "Why does the National Museum of Calvania say many of its objects have never been"
        " on display?",
        "national-museum-reopening.md",
        "we simply did not have the space",
        (14,),
    ),
    (
        "How is water drained from the Skarn Tunnel?",
        "skarn-tunnel-inquiry.md",
        "pumped out through a vertical shaft",
        (18,),
    ),
    (
        "Why was the new motor for pump 2 in the Skarn Tunnel ordered so late?",
        "skarn-tunnel-inquiry.md",
        "a disagreement between Drummond Civils and Dravian Rail Networks over which of them"
        " should pay for it",
        (38,),
    ),
    (
        "Why was there no emergency lighting where the train stopped in the Skarn Tunnel?",
        "skarn-tunnel-inquiry.md",
        "lights installed in 2009 had been removed during track work in 2022 and not replaced",
        (53,),
    ),
    (
        "How will the chair of the Harlow Basin joint commission be shared?",
        "harlow-compact-correction.md",
        "chaired in rotation, with each country holding the chair for two years",
        (6,),
    ),
    (
        "Why did the Bank of Calvania and the Dravian National Bank take different rate"
        " decisions in November 2031?",
        "central-bank-rates.md",
        "the two neighbours faced very different inflation figures",
        (0,),
    ),
    (
        "Why does the Dravian National Bank expect inflation to fall towards its target?",
        "central-bank-rates.md",
        "the cut in value added tax on household energy bills",
        (5,),
    ),
    (
        "Why is Dravia raising its defence budget in 2032?",
        "dravia-budget-2032.md",
        "commitments made at the Lindqvist Regional Summit and the need to replace the navy's"
        " patrol vessels in the Gannet Sea",
        (3,),
    ),
    (
        "Why has President Mireille Fontaine's standing been hurt, according to the embassy cable?",
        "embassy-cable-varn.md",
        "the herring dispute with Dravia and by rising rents in Varn",
        (12,),
    ),
    (
        "Why does the Marrow Coast panel hold the Grisby rock barrier partly responsible for"
        " erosion at Henlow Sands?",
        "marrow-coast-resilience-review.md",
        "interrupted the movement of sand to the north",
        (42,),
    ),
    (
        "Why did the Marrow Coast panel reject a levy on coastal insurance?",
        "marrow-coast-resilience-review.md",
        "it would fall most heavily on the households that already face the highest risk",
        (76,),
    ),
    (
        "Why did the nursing vacancy rate at the St Aurelia Hospital Trust fall?",
        "st-aurelia-annual-report.md",
        "420 nurses recruited abroad joined the Trust",
        (25,),
    ),
    (
        "Why is the Quillon Bridge closed to private cars?",
        "quillon-bridge.md",
        "a condition set by the city council when it approved the design in 2027",
        (2,),
    ),
    (
        "Why did the Ferrin Dockers' Union limit its walkout to 48 hours?",
        "ferrin-port-strike.md",
        None,
        (),
    ),
    (
        "Why did the Liberal Reform party lose all of its seats in Calvania's general election?",
        "calvania-election-wire.md",
        None,
        (),
    ),
)


def reason_items(split_of_doc: dict[str, str]) -> list[tuple[dict, str]]:
    """ "Why ...?" / "How ...?": the sentence that states the reason or method."""
    out = []
    for i, (question, name, phrase, picks) in enumerate(REASONS):
        key = picked(name, picks)
        assert phrase is None or any(phrase in k for k in key), question
        item = {
            "id": f"kinds-reason-{i + 1:03d}",
            "question": question,
            "answers": [phrase] if phrase else [],
            "key_sentences": key,
            "sources": [name] if phrase else [],
            "answerable": phrase is not None,
            "category": "reason",
        }
        out.append((item, split_of_doc.get(name, "test")))
    return out


# "Compare X and Y": each side's name, briefing and the indices of the sentences that state it.
COMPARES = (
    (
        "How does the Bank of Calvania's November 2031 decision compare with the Dravian"
        " National Bank's?",
        (
            ("Bank of Calvania", "central-bank-rates.md", (0, 1)),
            ("Dravian National Bank", "central-bank-rates.md", (5, 7)),
        ),
    ),
    (
        "Compare Mireille Fontaine and Aurèle Danton ahead of the Ostrellan presidential election",
        (
            ("Mireille Fontaine", "embassy-cable-varn.md", (7, 12)),
            ("Aurèle Danton", "embassy-cable-varn.md", (8, 15)),
        ),
    ),
    (
        "What is the difference between Dravia's herring quota and Ostrelle's proposal for the"
        " Gannet Sea?",
        (
            ("Dravia", "gannet-herring-dispute.md", (2,)),
            ("Ostrelle", "gannet-herring-dispute.md", (6, 7)),
        ),
    ),
    (
        "How does the Marrow Coast panel's recommended programme compare with the Agency's"
        " current ten-year plan?",
        (
            ("recommended programme", "marrow-coast-resilience-review.md", (62,)),
            ("current ten-year plan", "marrow-coast-resilience-review.md", (63,)),
        ),
    ),
    (
        "Compare shoreline erosion at Calder Point and Port Aske",
        (
            ("Calder Point", "marrow-coast-resilience-review.md", (33,)),
            ("Port Aske", "marrow-coast-resilience-review.md", (32,)),
        ),
    ),
    (
        "Compare Cobalt Loop's planned plant at Ferrin and Verity Biologics' plant in Oskarsholm",
        (
            ("Ferrin", "cobalt-loop-interview.md", (8, 9)),
            ("Oskarsholm", "verity-vaccine-plant.md", (2, 8)),
        ),
    ),
    (
        "How did the Unity Party compare with the Green Left in Calvania's general election?",
        (
            ("Unity Party", "calvania-election-wire.md", (0,)),
            ("Green Left", "calvania-election-wire.md", (1, 5)),
        ),
    ),
    (
        "What is the difference between the Lindqvist summit's energy working group and its"
        " migration working group?",
        (
            ("energy working group", "lindqvist-summit.md", (8,)),
            ("migration working group", "lindqvist-summit.md", (9,)),
        ),
    ),
    (
        "Compare the applications by Tessel Lithium and Gorse Copper to the Mineral Licensing"
        " Board",
        (
            ("Tessel Lithium", "mineral-licensing-minutes.md", (10, 13)),
            ("Gorse Copper", "mineral-licensing-minutes.md", (15, 17)),
        ),
    ),
    (
        "Compare Yara Nwosu and Piet Halvorsen, the founders of Cobalt Loop",
        (
            ("Nwosu", "cobalt-loop-interview.md", (2,)),
            ("Halvorsen", "cobalt-loop-interview.md", (3,)),
        ),
    ),
    (
        "How does the Verity Biologics vaccine plant compare with the Beaumont Cancer Centre?",
        (
            ("Verity Biologics", "verity-vaccine-plant.md", (2, 5)),
            ("Beaumont Cancer Centre", "st-aurelia-annual-report.md", (19, 20)),
        ),
    ),
)


def compare_items(split_of_doc: dict[str, str]) -> list[tuple[dict, str]]:
    """ "Compare X and Y": the sentences that state each side."""
    out = []
    for i, (question, sides) in enumerate(COMPARES):
        built = [{"name": n, "key_sentences": picked(f, picks)} for n, f, picks in sides]
        assert all(any(s["name"] in k for k in s["key_sentences"]) for s in built), question
        sources = sorted({f for _, f, _ in sides})
        item = {
            "id": f"kinds-compare-{i + 1:03d}",
            "question": question,
            "answers": [s["name"] for s in built],
            "sides": built,
            "key_sentences": [k for s in built for k in s["key_sentences"]],
            "sources": sources,
            "answerable": True,
            "category": "compare",
        }
        out.append((item, split_by(sources, split_of_doc, i)))
    return out


# "A timeline of X" for names in several briefings of different dates.
TIMELINES = (
    ("Give me a timeline of events in the {}", "Harlow Basin"),
    ("How has the {} project developed?", "Corran interconnector"),
    ("Chronology of {}", "Mireille Fontaine"),
    ("Give me a timeline of events at {}", "Ferrin"),
    ("How has the situation in the {} developed?", "Gannet Sea"),
    ("Chronology of the {}", "Dravian National Assembly"),
    ("Give me a timeline of {}", "Anselm Koivu"),
    ("Chronology of events in {}", "Oskarsholm"),
    ("Chronology of {}", "Kestrel Energy"),
    ("How have plans for the {} developed?", "Cobham rail yards"),
    ("Give me a timeline of the {}", "Lusk Institute"),
    ("How has {} developed?", "Aldous Rail Group"),
)


def timeline_items() -> list[tuple[dict, str]]:
    """ "A timeline of X": every briefing that names X, oldest first."""
    paths = sorted(BRIEFINGS.glob("*.md"))
    out = []
    for i, (wording, topic) in enumerate(TIMELINES):
        naming = sorted(
            (p for p in paths if topic.lower() in body(p).lower()), key=lambda p: (dated(p), p.name)
        )
        assert len({dated(p) for p in naming}) >= 2, topic
        item = {
            "id": f"kinds-timeline-{i + 1:03d}",
            "question": wording.format(topic),
            "answers": [topic],
            "sources": [p.name for p in naming],
            "answerable": True,
            "category": "timeline",
        }
        out.append((item, ("dev", "test")[i % 2]))
    return out


def _joined(first: str, second: str) -> str:
    """Two questions asked as one."""
    return f"{first.rstrip('?. ')}, and {second[0].lower()}{second[1:]}"


def parts_items(gold: list[dict], split_of_id: dict[str, str]) -> list[tuple[dict, str]]:
    """Two questions about one briefing asked as one, each part with its own gold."""
    by_source: dict[str, list[dict]] = {}
    for item in gold:
        if item["answerable"] and item.get("category") not in ("followup", "two_sentence"):
            by_source.setdefault(item["sources"][0], []).append(item)
    wh = re.compile(r"^(who|what|when|where|which|how)\b", re.I)
    out = []
    for source, items in sorted(by_source.items()):
        asks = [i for i in items if wh.match(i["question"])]
        if len(asks) < 2:
            continue
        a, b = asks[0], asks[1]
        pairs = [(a, b)]
        # A near-miss about the same briefing: the next unanswerable item after ``a`` in file
        # order, when it is in the same split.
        after = gold[gold.index(a) + 1 :]
        miss = next((i for i in after if not i["answerable"] and wh.match(i["question"])), None)
        if miss is not None and split_of_id[miss["id"]] == split_of_id[a["id"]]:
            pairs.append((asks[-1] if len(asks) > 2 else b, miss))
        for first, second in pairs:
            if split_of_id[first["id"]] != split_of_id[second["id"]]:
                continue
            item = {
                "id": f"kinds-parts-{len(out) + 1:03d}",
                "question": _joined(first["question"], second["question"]),
                "answers": first["answers"],
                "sources": [source],
                "answerable": True,
                "category": "parts",
                "parts": [
                    {"answers": p["answers"], "answerable": p["answerable"]}
                    for p in (first, second)
                ],
            }
            out.append((item, split_of_id[first["id"]]))
    return out


def main() -> None:
    """Write the gold items and their split, and print the counts."""
    gold = [json.loads(line) for line in (ROOT / "eval/gold/briefings.jsonl").open()]
    split = json.loads((ROOT / "eval/splits/briefings.json").read_text())
    split_of_id = {i: s for s in ("dev", "test") for i in split[s]}
    split_of_doc = {item["sources"][0]: split_of_id[item["id"]] for item in gold if item["sources"]}
    rows = documents_items(split_of_doc) + parts_items(gold, split_of_id) + latest_items()
    rows += summary_items(split_of_doc) + list_items(split_of_doc) + reason_items(split_of_doc)
    rows += compare_items(split_of_doc) + timeline_items()
    rows = [(item, s or "test") for item, s in rows]
    path = ROOT / "eval/gold/kinds.jsonl"
    path.write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i, _ in rows))
    out = {
        "gold": "kinds.jsonl",
        "grouped_by": "the split of the briefings the items were built from",
        "dev": sorted(i["id"] for i, s in rows if s == "dev"),
        "test": sorted(i["id"] for i, s in rows if s == "test"),
    }
    (ROOT / "eval/splits/kinds.json").write_text(json.dumps(out, indent=1) + "\n")
    print(f"{path}: {len(rows)} items ({len(out['dev'])} dev, {len(out['test'])} test)")
    for kind in dict.fromkeys(i["category"] for i, _ in rows):
        n = {s: sum(i["category"] == kind and t == s for i, t in rows) for s in ("dev", "test")}
        print(f"  {kind}: {n['dev'] + n['test']} ({n['dev']} dev, {n['test']} test)")


if __name__ == "__main__":
    main()
