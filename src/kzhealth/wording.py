"""Which way a quote says a change went: the verb or noun that governs a figure in its sentence.

"Maternal mortality dropped by 18.7%" says a fall, whatever sign the curator typed. The word
that decides is the nearest word of direction before the figure ("fell by", "a reduction of",
"increased ... by"), unless one follows it more closely ("20% lower", "a 5% rise"). Sentences
that name no direction say nothing, and nothing is guessed.
"""

from __future__ import annotations

import re

from kzhealth.figures import plain

FALL, RISE = -1, 1

_WORDS = {
    FALL: (
        "fell fall falls falling fallen dropped drop drops dropping decreased decrease decreases "
        "decreasing declined decline declines declining reduced reduce reduces reducing "
        "reduction reductions cut cuts lower lowered lowering down shrank shrunk shrink "
        "shrinking contracted contraction plunged plummeted slumped slid slipped dipped eased "
        "lost loss losses less fewer"
    ),
    RISE: (
        "rose rise rises rising risen increased increase increases increasing grew grow grows "
        "growing grown growth higher raised raise raising up gained gain gains climbed jumped "
        "surged soared expanded expansion boosted"
    ),
}
DIRECTION = {word: way for way, words in _WORDS.items() for word in words.split()}
AFTER = 2  # words after a figure that may still govern it: "20% lower", "a 5% rise"
_WORD = re.compile(r"[a-z]+(?:-[a-z]+)*")
_BOUND = re.compile(
    r" than (?:about |around |some |nearly |half|a (?:third|quarter|fifth|tenth)|[\d$€₸]"
    r"|one|two|three|four|five|six|seven|eight|nine|ten)"
)
PHRASAL_REACH = 10  # the longest verb of _PHRASAL ("followed") and its space
# "make up", "set up": "up" after these verbs gives no direction
_PHRASAL = re.compile(
    r"\b(?:make|makes|made|making|set|sets|setting|sign|signed|take|takes|took|taken|sum|sums"
    r"|summed|end|ends|ended|pick|picked|draw|drew|drawn|open|opened|follow|followed|back|backed"
    r"|show|showed|shown|turn|turned)\s$"
)


def _directions(text: str) -> list[tuple[int, int, str]]:
    """(position, direction, word) of every word of direction in a folded text."""
    found = []
    for match in _WORD.finditer(text):
        word = match.group()
        way = DIRECTION.get(word)
        if way is None:
            continue
        if word in ("less", "fewer") and _BOUND.match(text, match.end()):
            continue  # "less than 5%": a bound, not a fall ("5% less than in 2024" is one)
        if word == "up" and (
            text[match.end() : match.end() + 3] == " to"  # "up to": a bound
            or _PHRASAL.search(text, max(0, match.start() - PHRASAL_REACH), match.start())
        ):
            continue
        found.append((match.start(), way, word))
    return found


def said_direction(quote: str, figure: str) -> tuple[int, str] | None:
    """The direction (FALL or RISE) the quote gives the figure, and the word that says it; None
    when the figure is not in the quote or no word gives it a direction."""
    text, wanted = plain(quote).casefold(), plain(figure).casefold()
    at = text.find(wanted)
    if not wanted or at < 0:
        return None
    end = at + len(wanted)
    words = _directions(text)
    before = [(at - pos, way, word) for pos, way, word in words if pos < at]
    after = []
    for pos, way, word in words:
        if pos >= end and len(_WORD.findall(text[end:pos])) < AFTER:
            after.append((pos - end, way, word))
    nearest = min(before, default=None)
    following = min(after, default=None)
    if following is not None and (nearest is None or following[0] <= nearest[0]):
        return following[1], following[2]
    return (nearest[1], nearest[2]) if nearest is not None else None
