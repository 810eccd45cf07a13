"""How the offline model reads content: evidence for a decision, gaps worth a question, the
kind of a piece of knowledge, whether material covers a criterion.

Plain word matching, deterministic and explainable: a term matches another when their first
five letters agree (`limit` matches `limiting`), stop words never count. It is no language
model, and says so; it only makes sure that what the offline team writes follows from what
it was given (a report about a timeout is a bug; a criterion nothing supports is an open
point), so demos and tests show collaboration that carries information.
"""

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

_STOP_WORDS_TEXT = (
    "a an the and or but if of at by for with about into to from in out on off over under is "
    "are was were be been being have has had do does did this that these those it its they "
    "them their what which who whom when where why how all any both each few more most other "
    "some such no nor not only own same so than too very can will just should now one two "
    "three step steps then also there here your you our we us it's as per via new"
)
STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())

LEXICON: dict[str, tuple[str, ...]] = {
    "bug": (
        "times out",
        "timed out",
        "timeout",
        "time out",
        "crash",
        "error",
        "exception",
        "fails",
        "failing",
        "failure",
        "broken",
        "regression",
        "hangs",
        "freezes",
        "wrong",
        "leak",
        "corrupt",
        "does not work",
        "doesn't work",
        "stack trace",
        "500",
    ),
    "feature": (
        "please add",
        "would like",
        "could you add",
        "support for",
        "ability to",
        "allow ",
        "new option",
        "feature request",
        "it would be nice",
        "wish",
        "add a ",
        "add an ",
        "request for",
    ),
    "high risk": (
        "security",
        "auth",
        "payment",
        "migration",
        "data loss",
        "crash",
        "public api",
        "concurren",
        "rate limit",
        "times out",
        "timeout",
        "severity: high",
        "severity: critical",
        "database",
    ),
    "low risk": ("typo", "readme", "cosmetic", "comment", "wording", "rename", "style"),
    "problem": (
        "no input describes",
        "not yet covered",
        "open point",
        "severity: high",
        "severity: critical",
        "vulnerab",
        "missing",
        "unmet",
        "injection",
        "fails",
    ),
    "fine": ("approved", "no issues", "meets '", "covered", "none found", "passes"),
}
"""Signals per kind of evidence; an option is matched to a kind by `OPTION_KINDS`."""

OPTION_KINDS: dict[str, str] = {
    "bug": "bug",
    "defect": "bug",
    "fix": "bug",
    "incident": "bug",
    "feature": "feature",
    "enhancement": "feature",
    "request": "feature",
    "full": "high risk",
    "thorough": "high risk",
    "smoke": "low risk",
    "quick": "low risk",
    "merge": "fine",
    "approve": "fine",
    "ship": "fine",
    "accept": "fine",
    "go": "fine",
    "yes": "fine",
    "release": "fine",
    "request_changes": "problem",
    "reject": "problem",
    "block": "problem",
    "revise": "problem",
    "no": "problem",
    "hold": "problem",
}

SEVERITY = (
    ("critical", ("data loss", "corrupt", "security", "vulnerab", "crash")),
    ("high", ("times out", "timeout", "time out", "error", "fails", "exception", "broken")),
    ("medium", ("slow", "wrong", "confusing", "missing")),
)

KNOWLEDGE_KINDS: Sequence[tuple[str, tuple[str, ...]]] = (
    ("decision", ("decided", "decision:", "chose", "classified as", "outcome", "we will")),
    (
        "constraint",
        (
            "must",
            "at most",
            "at least",
            "limit",
            "timeout",
            "times out",
            "within",
            "never",
            "only ",
            "seconds",
            "minutes",
            "budget",
            "deadline",
        ),
    ),
    ("resource", ("http", "://", ".md", ".py", "source", "library", "dataset", "docs", "tool")),
    ("best_practice", ("test", "always", "should", "check", "review", "regression")),
)


def stem(word: str) -> str:
    return word.lower()[:5]


def terms(text: str) -> list[str]:
    """Content words of `text`, stemmed, each once, in order."""
    words = re.findall(r"[A-Za-z][A-Za-z0-9_-]{2,}", text)
    return list(dict.fromkeys(stem(w) for w in words if w.lower() not in STOP_WORDS))


def overlap(a: str, b: str) -> int:
    return len(set(terms(a)) & set(terms(b)))


def signals(text: str, kind: str) -> list[str]:
    """The sentences of `text` that carry a signal of `kind`."""
    lowered = text.lower()
    if not any(s in lowered for s in LEXICON.get(kind, ())):
        return []
    return [s for s in sentences(text) if any(sig in s.lower() for sig in LEXICON[kind])]


def sentences(text: str) -> list[str]:
    parts = re.split(r"(?<=[.!?])\s+|\n+", text)
    return [p.strip(" -*•\t") for p in parts if len(p.strip(" -*•\t")) > 3]


def quoted(text: str) -> list[str]:
    """Text quoted in `text` ("..." or '...' spanning a few words): what a step is about."""
    found = re.findall(r"\"([^\"]{8,})\"|“([^”]{8,})”", text)
    return [a or b for a, b in found]


NOISE_KEYS = frozenset({"output", "data", "insights", "seed", "confidence", "offline", "childKey"})
"""Keys of results passed on as inputs whose values are not material: a whole deliverable
(its summary stands for it), machine data, numbers."""


def flatten_json(text: str) -> list[str]:
    """The string values of a JSON object given as text (the step's inputs)."""
    try:
        value = json.loads(text)
    except ValueError:
        return [text] if text.strip() else []
    found: list[str] = []

    def walk(v: object, key: str = "") -> None:
        if key in NOISE_KEYS:
            return
        if isinstance(v, dict):
            for k, item in v.items():
                walk(item, str(k))
        elif isinstance(v, list):
            for item in v:
                walk(item, key)
        elif isinstance(v, str) and v.strip():
            found.append(f"{key}: {v}" if key and key != "summary" else v)

    walk(value)
    return found


@dataclass(frozen=True)
class Weighing:
    """Why an option wins: its evidence sentences, per option."""

    choice: str | None
    evidence: dict[str, list[str]]


def weigh(options: Sequence[str], evidence: str) -> Weighing:
    """The option the evidence supports most (None on a tie or no evidence)."""
    found: dict[str, list[str]] = {}
    for option in options:
        kind = OPTION_KINDS.get(option.strip().lower())
        if kind is not None:
            found[option] = signals(evidence, kind)
        else:
            found[option] = [
                s for s in sentences(evidence) if option.lower().replace("_", " ") in s.lower()
            ]
    if {OPTION_KINDS.get(o.lower()) for o in options} == {"fine", "problem"}:
        # Approval is the absence of problems: any problem outweighs praise.
        problem = next(o for o in options if OPTION_KINDS.get(o.lower()) == "problem")
        fine = next(o for o in options if OPTION_KINDS.get(o.lower()) == "fine")
        return Weighing(problem if found[problem] else fine, found)
    counts = {o: len(found[o]) for o in options}
    best = max(counts.values(), default=0)
    top = [o for o in options if counts[o] == best]
    return Weighing(top[0] if best > 0 and len(top) == 1 else None, found)


def severity(text: str) -> str:
    lowered = text.lower()
    for level, words in SEVERITY:
        if any(w in lowered for w in words):
            return level
    return "low"


def component(text: str) -> str | None:
    """The part of the system a report is about: its first gerund (`Exporting` -> export) or
    the noun after `the`."""
    gerund = re.search(r"\b([A-Z]?[a-z]{3,})ing\b", text)
    if gerund:
        base = gerund.group(1).lower()
        return base[:-1] if base.endswith(base[-1] * 2) else base
    noun = re.search(r"\bthe ([a-z]{4,})", text.lower())
    return noun.group(1) if noun else None


def knowledge_kind(text: str, *, step_type: str = "") -> str:
    lowered = text.lower()
    for kind, words in KNOWLEDGE_KINDS:
        if any(_has_cue(lowered, w) for w in words):
            return kind
    return "best_practice" if step_type in ("testing", "review") else "insight"


def _has_cue(lowered: str, cue: str) -> bool:
    """A cue word where it starts a word and is not a verb's -ing form: "limit" is in "a
    limit of 100" and "limits", not in "rate limiting" (a feature) nor "unlimited"."""
    if not cue[0].isalpha():
        return cue in lowered
    return re.search(rf"(?<![a-z]){re.escape(cue)}(?!ing)", lowered) is not None


def covers(material: str, criterion: str) -> tuple[bool, list[str]]:
    """Whether `material` supports `criterion` (at least half its terms occur), and the
    criterion's terms it lacks."""
    wanted = terms(criterion)
    have = set(terms(material))
    missing = [t for t in wanted if t not in have]
    return (bool(wanted) and len(missing) * 2 <= len(wanted)), missing


def word_for(stemmed: str, text: str) -> str:
    """The word of `text` a stemmed term came from (for quoting it back)."""
    for word in re.findall(r"[A-Za-z][A-Za-z0-9_-]{2,}", text):
        if stem(word) == stemmed:
            return str(word).lower()
    return stemmed
