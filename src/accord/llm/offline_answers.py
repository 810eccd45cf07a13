"""What the offline model writes: answers shaped by the requested JSON schema, drawn from the
content it was given.

The answer's kind is recognised from the schema's properties (a step result has `summary` and
`output`, a review `verdict`, a vote `choice` and `rationale`, a coordinator's assignment an
`agent` and a `reason`, an answer to a question `answer`); any other schema gets an example
value built from the schema itself. Whatever the kind, every required property is filled and
every constraint the schema states (enums, lengths, bounds) is respected, so pydantic accepts
the answer on the first try. Everything it writes says it comes from the offline model.

What it says follows from what it read (see `offline_reading`):
- a deliverable has findings (from the task's quoted text, the inputs, earlier results,
  teammates' answers, team knowledge), decisions and open points; a validation criterion
  nothing supports is an open point, not a claim;
- a question names a concrete gap: an earlier result's open point (asked of its author), an
  input the instructions name but nobody gave, a criterion the material does not support;
- an answer quotes the answerer's own results and knowledge, or says they do not cover it;
- a vote weighs the evidence in the inputs and earlier results (a timeout is a bug);
- a review requests changes for each criterion the deliverable leaves open, and approves
  once all are covered;
- shared knowledge has the type its content calls for and a subject of its own.
"""

import json
import random
import re
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

from accord.llm.offline_brief import Brief, Teammate
from accord.llm.offline_reading import (
    LEXICON,
    STOP_WORDS,
    component,
    covers,
    knowledge_kind,
    overlap,
    quoted,
    sentences,
    severity,
    signals,
    terms,
    weigh,
    word_for,
)

OFFLINE_TAG = "[offline model]"
ADDRESSED_MARKER = "Review feedback addressed"
"""The heading a reworked deliverable carries."""
NOT_COVERED = "Not yet covered"
NO_ANSWER = "does not cover"
_KNOWLEDGE_LINE = re.compile(
    r"^(?P<title>.*?) \(by (?P<author>[^;]+); (?P<type>\w+), (?P<status>\w+)\): (?P<content>.*)$"
)
_QUESTION_NOISE_TEXT = (
    "criteria ask asks given mentions mention nothing what should go how treat left open "
    "offline model step"
)
QUESTION_NOISE = frozenset(_QUESTION_NOISE_TEXT.split())
"""Words of the offline model's own questions that say nothing about what is asked."""
TRIAGE_CUES = ("triage", "report", "severity", "bug", "classify", "issue")
DELEGATION_CUES = ("delegate", "sub-task", "subtask", "side investigation", "sub-investigation")


@dataclass(frozen=True)
class Gap:
    """Something the step needs that its material does not give."""

    kind: Literal["open point", "missing input", "criterion"]
    what: str
    """The gap, as the deliverable's open points say it."""
    question: str
    ask: str | None
    """The teammate to ask (None: nobody is likely to know)."""
    criterion: str | None = None


@dataclass(frozen=True)
class Writer:
    """Writes one answer. `rng` is seeded from the model's seed and the request's content."""

    brief: Brief
    rng: random.Random
    seed: int
    change_request_rate: float
    teammate_answers: tuple[str, ...] = ()
    """What teammates answered to questions asked earlier in this step (tool returns)."""
    tool_lines: tuple[str, ...] = ()
    """What the agent's own tools showed in this step, a line per call (`tool_findings`)."""
    tools_done: bool = True
    """Whether the agent has made every own-tool call it means to (what they showed is then
    whole, and worth sharing)."""

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

    # -- what the step was given --------------------------------------------------------------

    @cached_property
    def material(self) -> list[tuple[str, str]]:
        """(where from, text) of everything the step can build on, in order."""
        brief = self.brief
        task = " ".join([brief.section("instructions"), brief.section("description")])
        named = re.findall(r"input [`'\"]?([A-Za-z_][\w-]*)", brief.section("instructions"))
        given = {line.partition(":")[0].strip().lower() for line in brief.inputs}
        # A named input that was given replaces the example the instructions quote.
        examples = [] if any(n.lower() in given for n in named) else quoted(task)
        items = [("the task", q) for q in examples]
        items += [("the inputs", line) for line in brief.inputs]
        quoted_steps = set()
        for dep in brief.dependencies:
            label = f"`{dep.step}`" + (f" ({dep.author})" if dep.author else "")
            quoted_steps.add(dep.step)
            summary = _untagged(dep.summary) if dep.summary else ""
            # `Plan: Question for Tess (...)` is Tess's to take up, not her teammates'.
            if summary and self._for_me(summary.split(": ", 1)[-1], dep.author):
                items.append((label, summary))
            items += [
                (label, line) for line in _key_lines(dep.body) if self._for_me(line, dep.author)
            ][:3]
        items += [
            (f"`{step}` ({agent})", _untagged(summary))
            for step, agent, summary in brief.found_by_teammates
            if step not in quoted_steps and summary
        ]
        items += [
            ("an answer", _untagged(a))
            for a in self.teammate_answers
            if NO_ANSWER not in a  # "does not cover 'the question'" echoes, and informs nothing
        ]
        for entry_id, entry in brief.knowledge:
            listed = _KNOWLEDGE_LINE.match(entry)
            if listed is None:
                items.append((f"knowledge [{entry_id}]", _untagged(entry)))
            elif listed.group("status") != "rejected":
                items.append(
                    (
                        f"knowledge [{entry_id}] by {listed.group('author')}",
                        _untagged(listed.group("content")),
                    )
                )
        return items

    @cached_property
    def material_text(self) -> str:
        return "\n".join(text for _, text in self.material)

    @cached_property
    def reworking(self) -> str:
        return self.brief.feedback

    @cached_property
    def criteria(self) -> list[tuple[str, bool, list[str]]]:
        """(criterion, covered, missing terms): covered by the material, or by the reviewer's
        feedback when reworking (which names what to cover)."""
        # Team knowledge is background, not evidence: an earlier run's claim that a criterion
        # was met must not meet it again.
        support = "\n".join(
            [text for label, text in self.material if not label.startswith("knowledge")]
            + [self.brief.section("expected output")]
        )
        found = []
        for criterion in self.brief.items("validation criteria"):
            ok, missing = covers(support, criterion)
            if not ok and criterion.lower() in self.reworking.lower():
                ok = True
            found.append((criterion, ok, missing))
        return found

    @cached_property
    def gaps(self) -> list[Gap]:
        brief = self.brief
        step = brief.step_name
        gaps = []
        for dep in brief.dependencies:
            for point in dep.open_points:
                point = _untagged(point)
                gaps.append(
                    Gap(
                        "open point",
                        f"`{dep.step}` left open: {point}",
                        f'{OFFLINE_TAG} In `{dep.step}` you left open: "{_clip(point, 200)}" '
                        f"How should '{step}' treat it?",
                        dep.author if dep.author != brief.me else None,
                    )
                )
        if not self.material and not self.tool_lines:
            thing = step.split()[-1].strip(".?!").lower() if step.split() else "subject"
            gaps.append(
                Gap(
                    "missing input",
                    f"No input describes the {thing} this step is about, so this deliverable "
                    "stays general until one does",
                    f"{OFFLINE_TAG} Which {thing} is '{step}' about? No input describes it.",
                    None,
                )
            )
        given = {line.partition(":")[0].strip().lower() for line in brief.inputs}
        named = re.findall(r"input [`'\"]?([A-Za-z_][\w-]*)", brief.section("instructions"))
        fallback = quoted(brief.section("instructions"))  # "without one, use this: ..."
        for name in named:
            if name.lower() not in given and not fallback:
                gaps.append(
                    Gap(
                        "missing input",
                        f"the instructions name the input '{name}', which was not given",
                        f"{OFFLINE_TAG} '{step}' needs the input '{name}', but the execution "
                        f"has none. Do you have it, or what should I use?",
                        self._who_knows(name),
                    )
                )
        for criterion, ok, missing in self.criteria:
            if ok:
                continue
            words = ", ".join(f"'{word_for(t, criterion)}'" for t in missing[:3])
            gaps.append(
                Gap(
                    "criterion",
                    f"{NOT_COVERED}: '{criterion}': nothing given says anything about {words}",
                    f"{OFFLINE_TAG} The criteria for '{step}' ask that '{criterion}', but "
                    f"nothing I was given mentions {words}. What should I go by?",
                    self._who_knows(criterion),
                    criterion,
                )
            )
        return gaps

    def _for_me(self, line: str, author: str | None = None) -> bool:
        """Whether an earlier result's line concerns this agent: not one addressed to another
        teammate (`Question for Uma ...` in a plan is Uma's to answer), unless that teammate
        wrote it (Uma's own result restating the question she took up)."""
        addressed = re.match(r"^Question for ([^(]+?) \(", line)
        return addressed is None or addressed.group(1) in (self.brief.me, author)

    def _mates(self) -> list[Teammate]:
        listed = self.brief.who_knows or list(self.brief.teammates)
        return [m for m in listed if m.name != self.brief.me]

    def _who_knows(self, about: str) -> str | None:
        """The teammate whose skills, role and finished work share most with `about` (one
        with finished work wins a tie); None when nobody shares anything."""
        scored = [
            (overlap(about, " ".join([*m.skills, m.role, m.known])), bool(m.known), i, m.name)
            for i, m in enumerate(self._mates())
        ]
        best = max(scored, default=None, key=lambda s: (s[0], s[1], -s[2]))
        if best is None or (best[0] == 0 and not best[1]):
            return None
        return best[3]

    # -- collaboration the step calls for -----------------------------------------------------

    def question(self) -> tuple[str, str] | None:
        """(teammate, question) for the first gap a teammate may fill."""
        for gap in self.gaps:
            if gap.ask:
                return gap.ask, gap.question
        return None

    def delegation(self) -> dict[str, str] | None:
        """A sub-task when the instructions ask for sub-tasks to be handed out."""
        instructions = self.brief.section("instructions")
        if not any(cue in instructions.lower() for cue in DELEGATION_CUES):
            return None
        step = self.brief.step_name
        mate = self._who_knows(instructions) or next((m.name for m in self._mates()), None)
        if mate is None:
            return None
        basis = next((text for _, text in self.material), step)
        return {
            "to": mate,
            "title": _clip(f"Side check for '{step}'", 200),
            "instructions": f"{OFFLINE_TAG} Check this on its own and report what you find: "
            f"{_clip(basis, 400)}",
            "expected_output": "What you checked and what it showed, each point marked "
            "confirmed or not.",
        }

    def feedback(self) -> tuple[str, str] | None:
        """(author, message) for an earlier result that left this step an open point."""
        for dep in self.brief.dependencies:
            if dep.open_points and dep.author and dep.author != self.brief.me:
                return dep.author, (
                    f"{OFFLINE_TAG} Your `{dep.step}` result left open: "
                    f"\"{_clip(_untagged(dep.open_points[0]), 200)}\". '{self.brief.step_name}' "
                    "had to work around it; settling it in your result would help later steps."
                )
        return None

    def validation(self) -> str | None:
        """A teammate's knowledge entry that this step's own material corroborates."""
        own = "\n".join(text for label, text in self.material if "knowledge" not in label)
        for entry_id, entry in self.brief.knowledge:
            listed = _KNOWLEDGE_LINE.match(entry)
            if listed is None or listed.group("author") == self.brief.me:
                continue
            claim = terms(listed.group("content"))
            backed = len(set(claim) & set(terms(own)))
            if listed.group("status") == "unvalidated" and claim and backed * 3 >= 2 * len(claim):
                return entry_id
        return None

    def shared_knowledge(self) -> dict[str, Any] | None:
        """The one thing from this step later steps must remember, typed by its content."""
        own = ("the task", "the inputs")
        sources = [
            (label, sentence)
            for label, t in self.material
            if label in own
            for sentence in sentences(t)
        ]
        # What this step's own tools found (files read, markers, a server's answers) is the
        # team's to remember when the task and inputs quote nothing: later steps and runs
        # should not have to read the same files again.
        digest = None if sources or not self.tools_done else self._tool_digest()
        if digest is not None:
            sources = [("my tools", digest)]
        if not sources:
            return None
        ranked = sorted(sources, key=lambda item: knowledge_kind(item[1]) == "insight")
        label, text = ranked[0]
        kind = knowledge_kind(text, step_type=self.brief.section("step type"))
        about = " ".join(_content_words(text)[:6])
        return {
            "title": _clip(f"{kind.replace('_', ' ').capitalize()}: {_first_sentence(text)}", 100),
            "content": f"{OFFLINE_TAG} {_first_sentence(text)} (from {label})",
            "knowledge_type": kind,
            "tags": _keywords(text),
            "subject": f"{kind} {about}"[:200],
        }

    # -- the kinds of answer ----------------------------------------------------------------

    def step_result(self) -> dict[str, Any]:
        brief = self.brief
        step = brief.step_name
        findings = self._findings()
        decisions = self._decisions()
        open_points = [gap.what for gap in self.gaps if not self._settled(gap)]
        lines = [
            f"# {step}",
            "",
            f"_Written by the built-in offline model (accord-offline, seed {self.seed}) from "
            "what it was given; no real language model was called._",
        ]
        asked = brief.section("expected output")
        if asked:
            lines += ["", f"Asked for: {_clip(asked, 300)}"]
        lines += ["", "## Findings"]
        task = brief.section("instructions") or brief.section("description")
        given = f": {_clip(task, 200)}" if task else ""
        if digest := self._tool_digest():
            findings.append(f"From my tools: {digest}")
        lines += [f"- {f}" for f in findings] or [
            f"- Nothing to work on beyond the instructions{given}."
        ]
        lines += ["", "## Decisions"]
        lines += [f"- {d}" for d in decisions] or ["- None taken: nothing to decide on."]
        lines += ["", "## Open points"]
        lines += [f"- {p}" for p in open_points] or ["- None found."]
        if self.reworking:
            lines += ["", f"## {ADDRESSED_MARKER}", f"> {_clip(self.reworking, 400)}"]
        headline = (
            decisions[0]
            if decisions
            else findings[0].partition(": ")[2]
            if findings
            else (open_points[0] if open_points else "nothing was given to work on")
        )
        insights = []
        if decisions:
            insights.append(
                {
                    "title": _clip(f"Decision in '{step}': {_first_sentence(decisions[0])}", 100),
                    "content": f"{OFFLINE_TAG} {decisions[0]}",
                    "knowledgeType": "decision",
                    "tags": _keywords(step),
                    "subject": _clip(f"decision {step.lower()}", 200),
                }
            )
        return {
            "summary": f"{OFFLINE_TAG} {step}: {_clip(headline, 300)}",
            "output": "\n".join(lines),
            "insights": insights,
            "questions": [_clip(p, 300) for p in open_points],
            "confidence": round(max(0.3, 0.9 - 0.15 * len(open_points)), 2),
            "data": {"offline": True, "seed": self.seed},
        }

    def _tool_digest(self) -> str | None:
        """One line for what the tools found (each call is listed under its own heading):
        how many files were read, and where the TODO/FIXME markers are; None when the tools
        only wrote (the deliverable is then the file, not a finding)."""
        reads = [line for line in self.tool_lines if line.startswith("Read")]
        failed = [line for line in self.tool_lines if " failed: " in line]
        if all(line.startswith("Wrote") for line in self.tool_lines):
            return None
        marked = [
            f"{m.group(1)} ({m.group(2)})"
            for line in reads
            if (m := re.match(r"Read `(?:.*/)?([^`/]+)`.*; (\d+) TODO/FIXME", line))
        ]
        parts = []
        if reads:
            parts.append(f"{len(reads)} file(s) read")
        if marked:
            parts.append("TODO/FIXME markers in " + ", ".join(marked))
        elif reads:
            parts.append("no TODO/FIXME markers")
        if failed:
            parts.append(f"{len(failed)} failed")
        other = [
            line
            for line in self.tool_lines
            if not line.startswith(("Read", "Wrote", "Listed")) and line not in failed
        ]
        # An MCP server's own tools (a changelog, a search): what each answered.
        parts += [_clip(line, 200).rstrip(".") for line in other[:3]]
        return "; ".join(parts or [f"{len(self.tool_lines)} call(s)"]) + "."

    def _settled(self, gap: Gap) -> bool:
        if gap.kind == "criterion":
            return any(c == gap.criterion and ok for c, ok, _ in self.criteria)
        return any(overlap(gap.what, a) >= 2 and NO_ANSWER not in a for a in self.teammate_answers)

    def _findings(self) -> list[str]:
        findings: list[str] = []
        known = 0
        for label, text in self.material:
            if label.startswith("knowledge"):
                known += 1
                if known > 2 or any(_plain(text)[:60] in f for f in findings):
                    continue
            plain = _plain(text)
            if any(plain[:80] in f for f in findings):
                continue  # several results quoting the same thing: cite it once
            finding = f"From {label}: {_clip(plain, 300)}"
            if label in ("the task", "the inputs"):
                kind = self._kind_of(text)
                if kind and not kind.startswith("constraint"):
                    finding += f" ({kind})"
            findings.append(finding)
        return findings[:8]

    @cached_property
    def triaging(self) -> bool:
        """Whether the step sorts reports (then a report is classed as a bug or a request)."""
        brief = self.brief
        about = " ".join(
            [brief.step_name, brief.section("instructions"), brief.section("expected output")]
        ).lower()
        return any(word in about for word in TRIAGE_CUES)

    def _kind_of(self, text: str) -> str:
        """What a report is when the step triages: a bug (with its severity and component) or
        a feature request; otherwise whether the text carries a high risk or a constraint."""
        bug, feature = signals(text, "bug"), signals(text, "feature")
        if not self.triaging:
            bug = feature = []
            limits = [s for s in sentences(text) if knowledge_kind(s) == "constraint"]
            if limits:
                return f"constraint: {limits[0]}"
        if bug and not feature:
            where = component(text)
            return f"a bug, severity {severity(text)}" + (f", component {where}" if where else "")
        if feature and not bug:
            return "a feature request"
        risky = [cue for cue in LEXICON["high risk"] if cue in text.lower()]
        if risky:
            return "high risk: " + ", ".join(risky[:3])
        return ""

    def _decisions(self) -> list[str]:
        brief = self.brief
        decisions = []
        for label, text in self.material:
            # What the task and inputs call for is decided once, by the first steps; later
            # steps build on those decisions (they are among their findings).
            if label not in ("the task", "the inputs") or brief.dependencies:
                continue
            kind = self._kind_of(text)
            if kind.startswith("constraint: "):
                decisions.append(
                    f'Hold to the constraint "{_clip(kind.removeprefix("constraint: "), 200)}" '
                    f"in '{brief.step_name}': it is the one requirement that can be checked."
                )
            elif kind.startswith("high risk"):
                decisions.append(
                    f'Treat the change as {kind}: "{_clip(text, 160)}" touches what users '
                    "and other systems rely on; test it fully."
                )
            elif kind.startswith("a bug"):
                cue = signals(text, "bug")[0]
                decisions.append(
                    f'Treat it as {kind}: "{_clip(cue, 160)}" is existing behaviour failing; '
                    "nothing in it asks for a new capability."
                )
            elif kind:
                cue = signals(text, "feature")[0]
                decisions.append(
                    f'Treat it as a feature request: "{_clip(cue, 160)}" asks for a new '
                    "capability; nothing in it reports a failure."
                )
        if "question" in brief.section("expected output").lower():
            subject = next((t for _, t in self.material), brief.step_name)
            for mate in self._mates():
                area = ", ".join(mate.skills) or mate.role
                decisions.append(
                    f"Question for {mate.name} ({area}): what does {area} tell us about "
                    f'"{_clip(_plain(subject), 120)}"?'
                )
        for dep in brief.dependencies:
            outcome = re.search(r"Decision on '([^']+)': (\S+?)[ .]", dep.summary)
            if outcome:
                decisions.append(
                    f"Follow the team's decision in `{dep.step}`: {outcome.group(2)} "
                    f"(on '{outcome.group(1)}')."
                )
        for criterion, ok, _ in self.criteria:
            if not ok:
                continue
            if criterion.lower() in self.reworking.lower():
                basis = next((t for label, t in self.material if "`" not in label), None)
                basis = basis or next((t for _, t in self.material), self.brief.step_name)
                decisions.append(
                    f"Meets '{criterion}' (reworked after review): nothing given settles it, so "
                    f"this deliverable assumes that {criterion[0].lower()}{criterion[1:]} for "
                    f'"{_clip(basis, 160)}", and the next step should check that assumption.'
                )
                continue
            evidence = [m for m in self.material if not m[0].startswith("knowledge")]
            support = max(evidence, key=lambda m: overlap(m[1], criterion), default=None)
            where = f" (from {support[0]}: {_clip(support[1], 160)})" if support else ""
            decisions.append(f"Meets '{criterion}'{where}.")
        if "test" in f"{brief.step_name} {brief.section('expected output')}".lower():
            limits = [
                q
                for _, text in self.material
                for sentence in sentences(text)
                if knowledge_kind(sentence) == "constraint"
                for q in (quoted(sentence) or [_limiting_clause(sentence)])
            ]
            for limit in list(dict.fromkeys(_plain(x) for x in limits))[:3]:
                decisions.append(f'Test case: check the requirement "{_clip(limit, 200)}"')
        for gap in self.gaps:
            if gap.kind != "criterion" and self._settled(gap):
                answer = next(a for a in self.teammate_answers if overlap(gap.what, a) >= 2)
                decisions.append(f"On {gap.what}: {_clip(_untagged(answer), 240)}")
        return list(dict.fromkeys(decisions))

    def insight(self) -> dict[str, Any]:
        shared = self.shared_knowledge()
        if shared is not None:
            return {**shared, "knowledgeType": shared["knowledge_type"]}
        step = self.brief.step_name
        return {
            "title": _clip(f"Offline note on {step}", 200),
            "content": f"{OFFLINE_TAG} '{step}' was done with nothing beyond its name.",
            "knowledgeType": "insight",
            "tags": _keywords(step),
            "subject": _clip(step.lower(), 200),
        }

    def review(self) -> dict[str, Any]:
        step = self.brief.step_name
        output = _reviewed_output(self.brief.text)
        criteria = self.brief.items("validation criteria")
        unmet = [
            c
            for c in criteria
            if f"{NOT_COVERED}: '{c}'".lower() in output.lower() or c.lower() not in output.lower()
        ]
        reworked = ADDRESSED_MARKER.lower() in output.lower()
        if not unmet and not reworked and criteria and self.rng.random() < self.change_request_rate:
            unmet = criteria[:1]  # a picky reviewer (`change_request_rate`)
        if unmet:
            reasons = []
            for c in unmet:
                stated = re.search(
                    re.escape(f"{NOT_COVERED}: '{c}'") + r":?\s*([^\n]*)", output, re.IGNORECASE
                )
                why = (
                    stated.group(1).strip()
                    if stated and stated.group(1).strip()
                    else ("the deliverable does not address it")
                )
                reasons.append(f"'{c}' is not met ({why})")
            return {
                "verdict": "request_changes",
                "feedback": f"{OFFLINE_TAG} Sent back '{step}': " + "; ".join(reasons) + ". Cover "
                "each one explicitly, stating what you assume where nothing was given.",
                "unmetCriteria": unmet,
            }
        covered = ", ".join(f"'{c}'" for c in criteria) if criteria else "the expected output"
        return {
            "verdict": "approve",
            "feedback": f"{OFFLINE_TAG} Approved '{step}': the deliverable covers {covered}"
            + (" after the rework." if reworked else "."),
            "unmetCriteria": [],
        }

    def vote(self, schema: dict[str, Any]) -> dict[str, Any]:
        choice_schema = schema.get("properties", {}).get("choice", {})
        options = list(choice_schema.get("enum") or []) or self.brief.items("options", "choices")
        evidence = "\n".join(
            [
                *self.brief.inputs,
                *(
                    "\n".join([_untagged(d.summary), *_key_lines(d.body)])
                    for d in self.brief.dependencies
                ),
            ]
        )
        weighing = weigh(options, evidence) if options else None
        if weighing is not None and weighing.choice is not None:
            choice = weighing.choice
            cited = weighing.evidence[choice][:1]
            others = [o for o in options if o != choice and not weighing.evidence[o]]
            rationale = (
                f'the evidence says "{_cue(cited[0])}"'
                if cited
                else "nothing in the evidence points to a problem"
            )
            if others:
                rationale += f"; nothing points to {', '.join(others)}"
            return {"choice": choice, "rationale": f"{OFFLINE_TAG} {choice}: {rationale}."}
        previous = [
            item.split(":")[1].strip()
            for item in self.brief.items("votes of the previous round")
            if item.count(":") >= 2
        ]
        popular = [o for o in options if previous.count(o) == max(map(previous.count, options))]
        # Without evidence either way it goes along with the previous round's leading option,
        # so consensus rounds converge.
        candidates = popular if previous else options
        choice = self.rng.choice(candidates) if candidates else "yes"
        return {
            "choice": choice,
            "rationale": f"{OFFLINE_TAG} '{choice}': the evidence given for "
            f"'{self.brief.step_name}' favours no option, so this is a judgement call.",
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
        question = self._question()
        who = self.brief.me or "a teammate"
        own: list[tuple[str, str]] = []
        for dep in self.brief.dependencies:
            own += [(f"my `{dep.step}` result", _untagged(dep.summary))]
            own += [(f"my `{dep.step}` result", line) for line in _key_lines(dep.body)]
        for item in self.brief.items("knowledge you wrote"):
            entry = re.match(r"^\[([^\]]+)\]\s*(?:.*?\((?:\w+)\):\s*)?(.*)$", item)
            if entry:
                own.append((f"my knowledge [{entry.group(1)}]", entry.group(2)))
        noise = QUESTION_NOISE | {w.lower() for w in self.brief.step_name.split()}
        asked = " ".join(
            t for t in re.findall(r"[A-Za-z][\w-]+", question) if t.lower() not in noise
        )
        lines = _best(asked, [(label, _plain(text)) for label, text in own])
        quoted_words = re.findall(r"'([^' ]+)'", question)
        topic = ", ".join(f"'{w}'" for w in (quoted_words or _content_words(asked))[:4]) or (
            f"'{_clip(_first_sentence(_untagged(question)), 160)}'"
        )
        if lines:
            said = "; ".join(f"{_clip(text, 220)} (from {label})" for label, text in lines)
            return f"{OFFLINE_TAG} {who} answers: {said}"
        return (
            f"{OFFLINE_TAG} {who} answers: my work so far {NO_ANSWER} "
            f"{topic}. State your assumption in the deliverable and keep it as an open point."
        )

    def _question(self) -> str:
        text = self.brief.text
        asked = re.search(r"asks you:\s*(.+?)(?:\n\s*\n|$)", text, re.DOTALL)
        if asked:
            return asked.group(1)
        lines = [line for line in text.splitlines() if line.strip().endswith("?")]
        return lines[-1] if lines else self.brief.section("question") or self.brief.step_name


def _best(question: str, lines: list[tuple[str, str]], limit: int = 2) -> list[tuple[str, str]]:
    scored = [
        (overlap(question, text), i, label, text)
        for i, (label, text) in enumerate(lines)
        if text and not text.rstrip().endswith("?") and NOT_COVERED.lower() not in text.lower()
    ]
    ranked = sorted((s for s in scored if s[0] > 0), key=lambda s: (-s[0], s[1]))
    picked: list[tuple[str, str]] = []
    for _, _, label, text in ranked:
        core = text.split(" (from ")[0]
        if all(core != seen.split(" (from ")[0] for _, seen in picked):
            picked.append((label, text))
    return picked[:limit]


def _key_lines(body: str) -> list[str]:
    """The decisions of a quoted deliverable (its findings quote what this step may read
    itself; its open points come as the result's questions), or its first sentences when it
    has no such structure."""
    picked, keep = [], False
    for line in body.splitlines():
        heading = re.match(r"^#+\s*(.*)$", line)
        if heading:
            keep = heading.group(1).strip().lower() == "decisions"
            continue
        item = re.match(r"^\s*[-*]\s+(.*)$", line)
        if keep and item and not item.group(1).startswith("None taken"):
            picked.append(_untagged(item.group(1).strip()))
    if picked or re.search(r"^#+\s", body, re.MULTILINE):
        return picked
    if body.lstrip().startswith("{"):
        try:
            return _summaries(json.loads(body))[:3]
        except ValueError:
            pass
    prose = "\n".join(line for line in body.splitlines() if not re.match(r"^\s*[-*]\s", line))
    plain = [
        _untagged(s)
        for s in sentences(prose)
        if len(s) >= 20 and not s.endswith(":") and not s.lower().startswith("outcome")
    ]
    return plain[:2]


def _summaries(value: Any) -> list[str]:
    """The `summary` values of a JSON result (a sub-workflow's final output, say)."""
    if isinstance(value, dict):
        found = [_untagged(str(value["summary"]))] if "summary" in value else []
        return found + [s for v in value.values() for s in _summaries(v)]
    if isinstance(value, list):
        return [s for v in value for s in _summaries(v)]
    return []


def _limiting_clause(sentence: str) -> str:
    """The clause of a sentence that states its limit: of "Large exports time out today: an
    export must finish within 30 seconds." the part after the colon, the one to test."""
    clauses = [c.strip() for c in re.split(r":\s+|;\s+", sentence) if c.strip()]
    limiting = [c for c in clauses if knowledge_kind(c) == "constraint"]
    return limiting[-1] if limiting else sentence


def _plain(text: str) -> str:
    """A quoted line without the labels quoting added (`From the task: `, the offline tag)."""
    text = _untagged(text)
    while match := re.match(r"^(From [^:]{1,80}|[A-Z][a-z_ ]{2,20}): ", text):
        text = text[match.end() :]
    return text


def _content_words(text: str) -> list[str]:
    words = re.findall(r"[A-Za-z][A-Za-z0-9_-]{2,}", text)
    return list(dict.fromkeys(w.lower() for w in words if w.lower() not in STOP_WORDS))


def _cue(sentence: str) -> str:
    """The part of an evidence sentence worth quoting: the text it quotes, if any."""
    inner = re.search(r"\"([^\"]{8,})\"?", sentence)
    return _clip(inner.group(1) if inner else _untagged(sentence), 200)


def _reviewed_output(text: str) -> str:
    """The deliverable inside a review request (the result's JSON after `Result:`)."""
    at = text.find("Result:")
    brace = text.find("{", at) if at >= 0 else -1
    if brace < 0:
        return text
    try:
        value, _ = json.JSONDecoder().raw_decode(text[brace:])
    except ValueError:
        return text[brace:]
    return str(value.get("output", "")) if isinstance(value, dict) else str(value)


def _untagged(text: str) -> str:
    return text.replace(OFFLINE_TAG, "").strip()


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
