"""What the offline model reads from a request: the step, its inputs and the team.

A real model reads the prompt as prose; the offline model reads the structure the team's
prompts use and quotes it back, so that its answers reflect the step. It reads:

- markdown headings (`# Step: Write the plan`, `## Instructions`, ...) and `Label: value`
  lines (`Step: ...`, `Required skills: ...`) as named sections;
- list items (`- ...`) inside sections, e.g. validation criteria, knowledge entries
  (`- [id] title: content`), options to vote on, and a roster (`- id X: Name (role; skills: a, b)`);
- `Your teammates: Name (role; skills: ...); Other (...)` in the instructions.

Everything missing is simply left out of the answer; nothing here fails on an unexpected prompt.
"""

import re
from dataclasses import dataclass, field

from accord.llm.offline_reading import flatten_json

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*$")
_LABEL = re.compile(r"^([A-Z][A-Za-z ]{1,40}):\s*(.*)$")
_ITEM = re.compile(r"^\s*[-*]\s+(.*)$")
_ROSTER = re.compile(r"^id\s+(\S+?):\s*(.+?)\s*(?:\((.*)\))?$")
_KNOWLEDGE = re.compile(r"^\[([^\]]+)\]\s*(.*)$")
_TEAMMATES = re.compile(r"teammates:\s*(.+?)(?:\.\s*$|\.\n|$)", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class Teammate:
    name: str
    id: str | None = None
    skills: tuple[str, ...] = ()
    role: str = ""
    known: str = ""
    """What the brief says the teammate finished and wrote ("Who knows what")."""


@dataclass(frozen=True)
class Dependency:
    """An earlier result the prompt quotes: its step, summary, text, open points, author."""

    step: str
    summary: str
    body: str
    open_points: tuple[str, ...] = ()
    author: str | None = None


@dataclass(frozen=True)
class Brief:
    """The parts of a request the offline model writes about."""

    text: str
    """Everything it was told (instructions and prompts), for hashing and token counts."""
    sections: dict[str, str] = field(default_factory=dict)
    """Lower-cased section names to their text, in prompt order."""
    teammates: tuple[Teammate, ...] = ()
    me: str | None = None

    def section(self, *names: str) -> str:
        """The first section whose name starts with one of `names` (lower case), or ''."""
        for key, value in self.sections.items():
            if any(key.startswith(name) for name in names):
                return value
        return ""

    def items(self, *names: str) -> list[str]:
        """The list items of a section."""
        return [
            m.group(1).strip()
            for line in self.section(*names).splitlines()
            if (m := _ITEM.match(line))
        ]

    @property
    def step_name(self) -> str:
        name = self.section("step")
        if not name:
            quoted = re.search(r"the step '([^']+)'", self.text)
            name = quoted.group(1) if quoted else self.section("the team must decide")
        return name.splitlines()[0].strip() if name else "the task"

    @property
    def knowledge(self) -> list[tuple[str | None, str]]:
        """(knowledge id, `title: content`) of each knowledge entry the prompt lists."""
        entries = []
        for item in self.items("relevant team knowledge", "team knowledge", "knowledge"):
            match = _KNOWLEDGE.match(item)
            entries.append((match.group(1), match.group(2)) if match else (None, item))
        return entries

    @property
    def feedback(self) -> str:
        return self.section("reviewer feedback", "feedback")

    @property
    def dependency_summaries(self) -> list[tuple[str, str]]:
        """(step, summary) for each earlier result the prompt includes."""
        return [(d.step, d.summary) for d in self.dependencies]

    @property
    def dependencies(self) -> list[Dependency]:
        """The earlier results the prompt quotes (a step's, a decision's or an answerer's own),
        each with its author when the coordinator's brief names one."""
        block = self.section(
            "results this step builds on",
            "what the team has so far",
            "your results in this run",
            "results",
            "previous results",
        )
        authors = dict(
            re.findall(r"^- `([^`]+)` \(([^)]+)\):", self.section("brief from"), re.MULTILINE)
        )
        found = []
        for chunk in re.split(r"^###\s+", block, flags=re.MULTILINE)[1:]:
            step, _, rest = chunk.partition("\n")
            summary = re.search(r"^Summary:\s*(.*)$", rest, re.MULTILINE)
            points = re.findall(r"^- open point:\s*(.+)$", rest, re.MULTILINE)
            body = re.sub(r"^(- open point:|Summary:).*$", "", rest, flags=re.MULTILINE)
            found.append(
                Dependency(
                    step=step.strip(),
                    summary=summary.group(1).strip() if summary else "",
                    body=body.strip(),
                    open_points=tuple(p.strip() for p in points),
                    author=authors.get(step.strip()),
                )
            )
        return found

    @property
    def found_by_teammates(self) -> list[tuple[str, str, str]]:
        """(step, agent, summary) of what the coordinator's brief says teammates found."""
        return [
            (step, agent, summary.strip())
            for step, agent, summary in re.findall(
                r"^- `([^`]+)` \(([^)]+)\): (.*)$", self.section("brief from"), re.MULTILINE
            )
        ]

    @property
    def inputs(self) -> list[str]:
        """The execution's inputs as `key: value` lines."""
        return flatten_json(self.section("inputs"))

    @property
    def who_knows(self) -> list[Teammate]:
        """Teammates as the brief's "Who knows what" describes them."""
        mates = []
        for item in self.items("who knows what"):
            match = re.match(r"^(.+?) \(([^;)]*); skills: ([^)]*)\):\s*(.*)$", item)
            if match:
                name, role, skills, known = match.groups()
                mates.append(
                    Teammate(
                        name.strip(),
                        skills=tuple(s.strip().lower() for s in skills.split(",") if s.strip()),
                        role=role.strip(),
                        known=known.strip(),
                    )
                )
        return mates


def read_brief(instructions: str, prompts: list[str]) -> Brief:
    text = "\n\n".join(part for part in [instructions, *prompts] if part)
    sections: dict[str, str] = {}
    current: str | None = None
    in_markdown_section = False
    for line in text.splitlines():
        heading = _HEADING.match(line)
        label = _LABEL.match(line) if not heading else None
        if heading and heading.group(1) in ("#", "##"):
            current = _section_name(heading.group(2), sections)
            sections[current] = heading.group(2).partition(":")[2].strip()
            in_markdown_section = heading.group(1) == "##"
        elif label and not in_markdown_section:
            current = _section_name(label.group(1), sections)
            sections[current] = label.group(2).strip()
        elif current is not None:
            sections[current] = (sections[current] + "\n" + line).strip()
    return Brief(
        text=text,
        sections=sections,
        teammates=_teammates(sections, instructions),
        me=_me(instructions),
    )


def _section_name(title: str, existing: dict[str, str]) -> str:
    name = title.partition(":")[0].strip().lower() if ":" in title else title.strip().lower()
    return name if name not in existing else f"{name} ({len(existing)})"


def _me(instructions: str) -> str | None:
    match = re.search(r"You are ([^,.\n]+)", instructions)
    return match.group(1).strip() if match else None


def _teammates(sections: dict[str, str], instructions: str) -> tuple[Teammate, ...]:
    roster = []
    for key in sections:
        if key.startswith(("teammates", "participants", "team members")):
            for line in sections[key].splitlines():
                item = _ITEM.match(line)
                if not item:
                    continue
                entry = _ROSTER.match(item.group(1).strip())
                if entry:
                    roster.append(
                        Teammate(
                            entry.group(2).strip(), entry.group(1), _skills(entry.group(3) or "")
                        )
                    )
                else:
                    roster.append(Teammate(item.group(1).split("(")[0].strip()))
    if roster:
        return tuple(roster)
    match = _TEAMMATES.search(instructions)
    if not match or match.group(1).lower().startswith("none"):
        return ()
    mates = []
    for chunk in _split_outside_parentheses(match.group(1)):
        name, _, rest = chunk.strip().partition("(")
        if name.strip():
            mates.append(Teammate(name.strip(), skills=_skills(rest.rstrip(")"))))
    return tuple(mates)


def _skills(description: str) -> tuple[str, ...]:
    _, _, skills = description.partition("skills:")
    return tuple(s.strip().lower() for s in skills.split(",") if s.strip())


def _split_outside_parentheses(text: str) -> list[str]:
    """`A (x; y); B (z)` -> [`A (x; y)`, `B (z)`]."""
    chunks, depth, start = [], 0, 0
    for index, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == ";" and depth == 0:
            chunks.append(text[start:index])
            start = index + 1
    chunks.append(text[start:])
    return chunks
