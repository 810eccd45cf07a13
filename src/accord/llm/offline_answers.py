"""What the offline model writes: answers shaped by the requested JSON schema.

The answer's kind is recognised from the schema's properties (a step result has `summary` and
`output`, a review `verdict`, a vote `choice` and `rationale`, a coordinator's assignment an
`agent` and a `reason`, an answer to a question `answer`); any other schema gets an example
value built from the schema itself. Whatever the kind, every required property is filled and
every constraint the schema states (enums, lengths, bounds) is respected, so pydantic accepts
the answer on the first try. Everything it writes says it comes from the offline model.
"""

import random
import re
from dataclasses import dataclass
from typing import Any

from accord.llm.offline_brief import Brief

OFFLINE_TAG = "[offline model]"
ADDRESSED_MARKER = "Review feedback addressed"
"""The heading a reworked deliverable carries; the offline reviewer approves what has it."""


_DONE_VERBS = ("Completed", "Finished", "Delivered", "Worked through", "Wrapped up")
_APPROACHES = (
    "covered step by step, with the reasoning stated",
    "worked out from the inputs given, assumptions listed",
    "answered directly, with the open points flagged",
    "drafted, checked against the criteria, then tightened",
    "broken into parts, each one settled in turn",
)


@dataclass(frozen=True)
class Writer:
    """Writes one answer. `rng` is seeded from the model's seed and the request's content."""

    brief: Brief
    rng: random.Random
    seed: int
    change_request_rate: float
    teammate_answers: tuple[str, ...] = ()
    """What teammates answered to questions asked earlier in this step (tool returns)."""

    # -- entry points ---------------------------------------------------------------------

    def structured(self, schema: dict[str, Any]) -> Any:
        defs = schema.get("$defs", {})
        resolved = _resolve(schema, defs)
        props = set(resolved.get("properties", {}))
        if {"summary", "output"} <= props:
            value: Any = self.step_result()
        elif "verdict" in props:
            value = self.review()
        elif {"choice", "rationale"} <= props:
            value = self.vote(resolved)
        elif props & {"agent", "agentId", "agent_id"} and "reason" in props:
            value = self.assignment(props)
        elif "answer" in props:
            value = {"answer": self.answer()}
        else:
            value = None
        return conform(value, resolved, defs, self, "")

    def complete(self, value: Any, schema: dict[str, Any]) -> Any:
        """`value` (e.g. planned tool arguments) made valid for `schema`: kept where it fits,
        generated where missing, dropped where the schema has no such property."""
        return conform(value, schema, schema.get("$defs", {}), self, "")

    def text(self) -> str:
        if "asks you:" in self.brief.text:
            return self.answer()
        result = self.step_result()
        return f"{result['summary']}\n\n{result['output']}"

    # -- the kinds of answer ----------------------------------------------------------------

    def step_result(self) -> dict[str, Any]:
        brief = self.brief
        step = brief.step_name
        goal = _first_sentence(
            brief.section("expected output")
            or brief.section("description")
            or brief.section("instructions")
            or step
        )
        lines = [
            f"# {step}",
            "",
            f"_Written by the built-in offline model (accord-offline, seed {self.seed}); "
            "no real language model was called._",
        ]
        task = [
            (label, brief.section(label))
            for label in ("description", "instructions", "expected output")
        ]
        if any(text for _, text in task):
            lines += ["", "## Task as given"]
            lines += [
                f"- **{label.capitalize()}**: {_clip(text, 300)}" for label, text in task if text
            ]
        lines += ["", "## Deliverable"]
        lines += [f"- {point}" for point in self._points(step, goal)]
        criteria = brief.items("validation criteria")
        if criteria:
            lines += ["", "## Validation criteria covered"]
            lines += [f"- {criterion}: addressed above" for criterion in criteria]
        dependencies = brief.dependency_summaries
        if dependencies:
            lines += ["", "## Building on earlier results"]
            lines += [
                f"- From `{name}`: {_clip(summary, 200) or 'its output'}"
                for name, summary in dependencies
            ]
        knowledge = brief.knowledge
        if knowledge:
            lines += ["", "## Team knowledge used"]
            lines += [f"- {_clip(entry, 200)}" for _, entry in knowledge]
        if self.teammate_answers:
            lines += ["", "## What teammates said"]
            lines += [f"- {_clip(answer, 200)}" for answer in self.teammate_answers]
        if brief.feedback:
            lines += [
                "",
                f"## {ADDRESSED_MARKER}",
                f"> {_clip(brief.feedback, 400)}",
                "",
                "Each point above was revised to answer this feedback.",
            ]
        questions = []
        if self.rng.random() < 0.3:
            questions.append(f"{OFFLINE_TAG} Is the scope of '{step}' right for the next steps?")
        verb = self.rng.choice(_DONE_VERBS)
        return {
            "summary": f"{OFFLINE_TAG} {verb} '{step}': {goal}",
            "output": "\n".join(lines),
            "insights": [self.insight()],
            "questions": questions,
            "confidence": round(0.6 + 0.3 * self.rng.random(), 2),
            "data": {"offline": True, "seed": self.seed},
        }

    def insight(self) -> dict[str, Any]:
        step = self.brief.step_name
        return {
            "title": _clip(f"Offline note on {step}", 200),
            "content": f"{OFFLINE_TAG} While working on '{step}': "
            f"{_first_sentence(self.brief.section('instructions', 'description') or step)}",
            "knowledgeType": "insight",
            "tags": _keywords(step),
            "subject": _clip(step.lower(), 200),
        }

    def review(self) -> dict[str, Any]:
        criteria = self.brief.items("validation criteria")
        step = self.brief.step_name
        reworked = ADDRESSED_MARKER.lower() in self.brief.text.lower()
        if not reworked and self.rng.random() < self.change_request_rate:
            unmet = criteria[:1] or ["the deliverable is specific enough"]
            return {
                "verdict": "request_changes",
                "feedback": f"{OFFLINE_TAG} Good start on '{step}', but it must meet: "
                f"{unmet[0]}. Make that explicit in the deliverable.",
                "unmetCriteria": unmet,
            }
        covered = ", ".join(criteria) if criteria else "it is fit for purpose"
        return {
            "verdict": "approve",
            "feedback": f"{OFFLINE_TAG} Approved '{step}': {covered}.",
            "unmetCriteria": [],
        }

    def vote(self, schema: dict[str, Any]) -> dict[str, Any]:
        choice_schema = schema.get("properties", {}).get("choice", {})
        options = list(choice_schema.get("enum") or []) or self.brief.items("options", "choices")
        previous = [
            item.split(":")[1].strip()
            for item in self.brief.items("votes of the previous round")
            if item.count(":") >= 2
        ]
        popular = [o for o in options if previous.count(o) == max(map(previous.count, options))]
        # Like a reasonable teammate, it goes along with the previous round's leading option,
        # so consensus rounds converge.
        candidates = popular if previous else options
        choice = self.rng.choice(candidates) if candidates else "yes"
        return {
            "choice": choice,
            "rationale": f"{OFFLINE_TAG} '{choice}' fits '{self.brief.step_name}' best on the "
            "information given.",
        }

    def assignment(self, props: set[str]) -> dict[str, Any]:
        mates = list(self.brief.teammates)
        wanted = {s.strip().lower() for s in self.brief.section("required skills").split(",")}
        if mates:
            best = max(len(wanted & set(m.skills)) for m in mates)
            pick = self.rng.choice([m for m in mates if len(wanted & set(m.skills)) == best])
            who, reason = pick.id or pick.name, f"{pick.name}'s skills fit best"
        else:
            who, reason = "unknown", "nobody was listed"
        key = next(k for k in ("agent", "agentId", "agent_id") if k in props)
        return {key: who, "reason": f"{OFFLINE_TAG} {reason} for '{self.brief.step_name}'."}

    def answer(self) -> str:
        question = _first_sentence(self._question())
        who = self.brief.me or "a teammate"
        return (
            f"{OFFLINE_TAG} {who} answers: on '{_clip(question, 160)}', go with the "
            "simplest option that meets the step's criteria."
        )

    def _question(self) -> str:
        text = self.brief.text
        asked = re.search(r"asks you:\s*(.+?)(?:\n\s*\n|$)", text, re.DOTALL)
        if asked:
            return asked.group(1)
        lines = [line for line in text.splitlines() if line.strip().endswith("?")]
        return lines[-1] if lines else self.brief.section("question") or self.brief.step_name

    def _points(self, step: str, goal: str) -> list[str]:
        sources = [
            goal,
            *[
                _first_sentence(s)
                for s in re.split(r"[.;\n]", self.brief.section("instructions"))
                if s.strip()
            ],
        ]
        approach = self.rng.choice(_APPROACHES)
        points = [f"{_clip(s.strip().rstrip('.'), 200)}: {approach}" for s in sources if s.strip()]
        return list(dict.fromkeys(points))[:5]


# -- schema-driven completion ---------------------------------------------------------------


def _resolve(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        return _resolve(defs[ref.removeprefix("#/$defs/")], defs)
    return schema


def conform(
    value: Any, schema: dict[str, Any], defs: dict[str, Any], writer: Writer, name: str
) -> Any:
    """`value` made valid for `schema`: kept where it fits, generated where missing."""
    schema = _resolve(schema, defs)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = [_resolve(o, defs) for o in schema[key]]
            non_null = [o for o in options if o.get("type") != "null"] or options
            if value is None and any(o.get("type") == "null" for o in options):
                return None
            return conform(value, non_null[0], defs, writer, name)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return value if value in schema["enum"] else writer.rng.choice(schema["enum"])
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        props: dict[str, Any] = schema.get("properties", {})
        given = value if isinstance(value, dict) else {}
        result = {}
        for prop, prop_schema in props.items():
            if prop in given:
                result[prop] = conform(given[prop], prop_schema, defs, writer, prop)
            elif prop in schema.get("required", []):
                result[prop] = conform(None, prop_schema, defs, writer, prop)
        if schema.get("additionalProperties") not in (False, None) and not props:
            result.update(given)
        return result
    if kind == "array":
        items = value if isinstance(value, list) else []
        if not items and schema.get("minItems", 0) > 0:
            items = [None] * schema["minItems"]
        return [conform(item, schema.get("items", {}), defs, writer, name) for item in items]
    if kind == "string":
        text = value if isinstance(value, str) else _text_for(name, writer)
        text = text[: schema["maxLength"]] if "maxLength" in schema else text
        return text.ljust(schema.get("minLength", 0), ".")
    if kind in ("integer", "number"):
        if isinstance(value, int | float) and not isinstance(value, bool):
            number = value
        else:
            number = schema.get("minimum", schema.get("exclusiveMinimum", 0) + 1)
        number = min(number, schema.get("maximum", number))
        return int(number) if kind == "integer" else float(number)
    if kind == "boolean":
        return value if isinstance(value, bool) else True
    if kind == "null":
        return None
    return value if value is not None else _text_for(name, writer)


def _text_for(name: str, writer: Writer) -> str:
    step = writer.brief.step_name
    lowered = name.lower()
    if lowered in ("title", "name", "subject"):
        return _clip(f"Offline: {step}", 200)
    if "question" in lowered:
        return f"{OFFLINE_TAG} What matters most for '{step}'?"
    if lowered in ("query", "search", "keywords"):
        return step
    return f"{OFFLINE_TAG} {name or 'answer'} for '{step}'"


def _first_sentence(text: str) -> str:
    text = " ".join(text.split())
    match = re.match(r"(.+?[.!?])(\s|$)", text)
    return _clip(match.group(1) if match else text, 240)


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _keywords(text: str) -> list[str]:
    words = [w.lower() for w in re.findall(r"[A-Za-z][A-Za-z0-9-]{3,}", text)]
    return list(dict.fromkeys(["offline", *words]))[:5]
