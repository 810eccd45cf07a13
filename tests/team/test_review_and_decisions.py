"""Reviews (reject, rework, approve) and decisions (coordinator, majority, consensus)."""

from accord.domain.enums import InteractionType
from accord.storage.repositories.interactions import InteractionRepository
from accord.storage.repositories.knowledge import KnowledgeRepository

from .helpers import DEFAULT_AGENTS, answer

REVIEWED = [
    {
        "id": "impl",
        "name": "Implement login",
        "reviewRequired": True,
        "reviewerRole": "reviewer",
        "validationCriteria": ["has tests", "no secrets"],
        "expectedOutput": "a patch",
    }
]


def interactions(crew, kind):
    with crew.db.session() as s:
        return InteractionRepository(s).list(crew.execution_id, interaction_type=kind)


async def test_a_reviewer_rejects_once_then_approves_the_rework(make_crew):
    crew = make_crew(steps=REVIEWED)
    crew.script(
        "Ada",
        answer(output="patch v1", insights=[{"title": "Hash", "content": "bcrypt"}]),
        answer(output="patch v2 with tests", insights=[{"title": "Hash", "content": "argon2"}]),
    )
    grace = crew.script(
        "Grace",
        {
            "verdict": "request_changes",
            "feedback": "Add tests for lockout",
            "unmetCriteria": ["has tests"],
        },
        {"verdict": "approve", "feedback": "Tests cover lockout"},
    )
    team = crew.team()

    first = await team.perform(crew.ctx("impl", agent="Ada"))
    assert first.status == "rework"
    assert first.feedback == "Add tests for lockout"
    assert "has tests" in grace.prompt_text() and "patch v1" in grace.prompt_text()

    second = await team.perform(crew.ctx("impl", agent="Ada", attempt=2, feedback=first.feedback))
    assert second.status == "completed"
    assert second.result["output"] == (
        "patch v2 with tests\n\n## Sources\n- Reviewer feedback addressed: Add tests for lockout"
    )
    assert second.usage.model_calls == 2  # Ada's rework and Grace's review

    verdicts = interactions(crew, InteractionType.FEEDBACK)
    assert [
        (v.from_agent_id, v.to_agent_id, v.context_data["review"], v.context_data["attempt"])
        for v in verdicts
    ] == [
        (crew.id("Grace"), crew.id("Ada"), "request_changes", 1),
        (crew.id("Grace"), crew.id("Ada"), "approve", 2),
    ]
    assert verdicts[0].context_data["unmetCriteria"] == ["has tests"]
    with crew.db.session() as s:  # only the approved attempt's insights became knowledge
        assert [
            k.content
            for k in KnowledgeRepository(s).list_for_workflow(
                crew.workflow_id, include_inactive=True
            )
        ] == ["argon2"]


async def test_the_author_never_reviews_its_own_work(make_crew):
    crew = make_crew(steps=REVIEWED, agents=[("Ada", "reviewer", []), ("Bea", "dev", [])])
    crew.script("Ada", answer())
    crew.script("Bea", {"verdict": "approve", "feedback": "fine"})
    outcome = await crew.team().perform(crew.ctx("impl", agent="Ada"))
    assert outcome.status == "completed"
    [v] = interactions(crew, InteractionType.FEEDBACK)
    assert v.from_agent_id == crew.id("Bea")


def decision_step(**extra):
    return [
        {
            "id": "pick",
            "name": "Pick a database",
            "type": "decision",
            "decisionOptions": ["postgres", "sqlite", "mysql"],
            **extra,
        }
    ]


def vote(choice, why="because"):
    return {"choice": choice, "rationale": why}


async def test_the_coordinator_decides(make_crew):
    crew = make_crew(
        steps=decision_step(), coordinator="Linus", coordination={"decisionMaking": "coordinator"}
    )
    crew.script("Linus", vote("postgres", "concurrency"))
    outcome = await crew.team().perform(crew.ctx("pick", agent="Ada"))
    assert outcome.status == "completed"
    data = outcome.result["data"]
    assert (data["outcome"], data["method"]) == ("postgres", "coordinator")
    assert [v["agentId"] for v in data["votes"]] == [crew.id("Linus")]


async def test_a_majority_vote_with_a_tie_is_broken_by_the_coordinator(make_crew):
    crew = make_crew(
        steps=decision_step(),
        coordinator="Linus",
        agents=[
            ("Ada", "dev", []),
            ("Grace", "dev", []),
            ("Linus", "lead", []),
            ("Bea", "dev", []),
        ],
        coordination={"decisionMaking": "majority"},
    )
    crew.script("Ada", vote("sqlite"))
    crew.script("Grace", vote("postgres"))
    crew.script("Linus", vote("postgres", "replication"))
    crew.script("Bea", vote("sqlite"))
    outcome = await crew.team().perform(crew.ctx("pick", agent="Ada"))
    data = outcome.result["data"]
    assert data["tie"] == ["postgres", "sqlite"]
    assert (data["outcome"], data["tieBrokenBy"]) == ("postgres", crew.id("Linus"))
    assert len(data["votes"]) == 4
    votes = interactions(crew, InteractionType.COORDINATION)
    assert [v.context_data.get("choice") for v in votes[:4]] == [
        "sqlite",
        "postgres",
        "postgres",
        "sqlite",
    ]
    assert votes[-1].context_data["outcome"] == "postgres"


async def test_a_tie_the_coordinator_is_not_part_of_is_decided_by_asking_it(make_crew):
    crew = make_crew(
        steps=decision_step(),
        coordinator="Linus",
        agents=[
            ("Ada", "dev", []),
            ("Bea", "dev", []),
            ("Grace", "dev", []),
            ("Cy", "dev", []),
            ("Linus", "lead", []),
        ],
        coordination={"decisionMaking": "majority"},
    )
    for name, choice in (
        ("Ada", "sqlite"),
        ("Bea", "sqlite"),
        ("Grace", "postgres"),
        ("Cy", "postgres"),
    ):
        crew.script(name, vote(choice))
    linus = crew.script("Linus", vote("mysql"), vote("sqlite", "simplest"))
    outcome = await crew.team().perform(crew.ctx("pick", agent="Ada"))
    data = outcome.result["data"]
    assert data["tie"] == ["postgres", "sqlite"]
    assert (data["outcome"], data["tieBrokenBy"]) == ("sqlite", crew.id("Linus"))
    assert "Choose exactly one of: postgres, sqlite;" in linus.prompt_text(1)


async def test_a_vote_outside_the_options_is_sent_back(make_crew):
    crew = make_crew(
        steps=decision_step(),
        agents=[("Ada", "dev", [])],
        coordination={"decisionMaking": "majority"},
    )
    ada = crew.script("Ada", vote("oracle"), vote("sqlite"))
    outcome = await crew.team().perform(crew.ctx("pick", agent="Ada"))
    assert outcome.result["data"]["outcome"] == "sqlite"
    assert "oracle" in ada.prompt_text(1) and "postgres" in ada.prompt_text(1)


async def test_a_consensus_converges_when_all_agree(make_crew):
    crew = make_crew(steps=decision_step(), coordination={"decisionMaking": "consensus"})
    crew.script("Ada", vote("sqlite"), vote("postgres"))
    crew.script("Grace", vote("postgres"), vote("postgres"))
    linus = crew.script("Linus", vote("postgres"), vote("postgres"))
    outcome = await crew.team().perform(crew.ctx("pick", agent="Ada"))
    data = outcome.result["data"]
    assert (data["outcome"], data["rounds"], data["converged"]) == ("postgres", 2, True)
    assert "Ada: sqlite" in linus.prompt_text(1)  # round 2 sees round 1


async def test_a_consensus_that_never_converges_falls_back_to_the_coordinator(make_crew):
    crew = make_crew(
        steps=decision_step(),
        coordinator="Linus",
        coordination={"decisionMaking": "consensus", "consensusRounds": 2},
    )
    crew.script("Ada", vote("sqlite"), vote("sqlite"))
    crew.script("Grace", vote("postgres"), vote("postgres"))
    crew.script("Linus", vote("mysql"), vote("mysql"), vote("postgres", "final call"))
    outcome = await crew.team().perform(crew.ctx("pick", agent="Ada"))
    data = outcome.result["data"]
    assert (data["outcome"], data["rounds"], data["converged"], data["fallback"]) == (
        "postgres",
        2,
        False,
        "coordinator",
    )
    assert len(data["votes"]) == 7


async def test_a_consensus_that_never_converges_can_fail_the_step(make_crew):
    crew = make_crew(
        steps=decision_step(),
        agents=[("Ada", "dev", []), ("Bea", "dev", [])],
        coordination={
            "decisionMaking": "consensus",
            "consensusRounds": 1,
            "consensusFallback": "fail",
        },
    )
    crew.script("Ada", vote("sqlite"))
    crew.script("Bea", vote("postgres"))
    outcome = await crew.team().perform(crew.ctx("pick", agent="Ada"))
    assert outcome.status == "failed"
    assert "No consensus on 'Pick a database' after 1 rounds" in outcome.error
    last = interactions(crew, InteractionType.COORDINATION)[-1]
    assert last.context_data["converged"] is False


async def test_a_consensus_fallback_to_majority_counts_the_last_round(make_crew):
    crew = make_crew(
        steps=decision_step(),
        coordination={
            "decisionMaking": "consensus",
            "consensusRounds": 1,
            "consensusFallback": "majority",
        },
    )
    crew.script("Ada", vote("sqlite"))
    crew.script("Grace", vote("postgres"))
    crew.script("Linus", vote("postgres"))
    outcome = await crew.team().perform(crew.ctx("pick", agent="Ada"))
    assert outcome.result["data"]["outcome"] == "postgres"


PANEL_STEP = [{"id": "impl", "name": "Implement login", "reviewRequired": True}]


def verdict(kind, feedback, *unmet):
    return {"verdict": kind, "feedback": feedback, "unmetCriteria": list(unmet)}


async def test_a_majority_panel_approves_with_more_than_half(make_crew):
    crew = make_crew(
        steps=PANEL_STEP,
        agents=[*DEFAULT_AGENTS, ("Bea", "developer", [])],
        coordination={"decisionMaking": "majority"},
    )
    crew.script("Ada", answer())
    crew.script("Grace", verdict("approve", "fine"))
    crew.script("Linus", verdict("request_changes", "rename it", "naming"))
    crew.script("Bea", verdict("approve", "ship it"))
    outcome = await crew.team().perform(crew.ctx("impl", agent="Ada"))
    assert outcome.status == "completed"
    reviews = interactions(crew, InteractionType.FEEDBACK)
    assert [r.context_data["review"] for r in reviews] == ["approve", "request_changes", "approve"]
    assert {r.to_agent_id for r in reviews} == {crew.id("Ada")}


async def test_a_tied_panel_goes_the_coordinators_way(make_crew):
    crew = make_crew(
        steps=PANEL_STEP, coordinator="Linus", coordination={"decisionMaking": "majority"}
    )
    crew.script("Ada", answer())
    crew.script("Grace", verdict("approve", "fine"))
    crew.script("Linus", verdict("request_changes", "add rate limiting", "security"))
    outcome = await crew.team().perform(crew.ctx("impl", agent="Ada"))
    assert outcome.status == "rework"
    assert outcome.feedback == "Linus: add rate limiting"


async def test_a_consensus_panel_needs_every_approval(make_crew):
    crew = make_crew(steps=PANEL_STEP, coordination={"decisionMaking": "consensus"})
    crew.script("Ada", answer())
    crew.script("Grace", verdict("request_changes", "add tests", "tests"))
    crew.script("Linus", verdict("approve", "fine"))
    outcome = await crew.team().perform(crew.ctx("impl", agent="Ada"))
    assert outcome.status == "rework"
    assert outcome.feedback == "Grace: add tests"


async def test_a_reviewer_whose_model_gives_no_verdict_does_not_fail_the_work(make_crew):
    # A weak model asked to judge: it never says approve or request changes.
    crew = make_crew(steps=REVIEWED)
    crew.script("Ada", answer(output="patch v1"))
    unusable = {"verdict": "looks interesting", "feedback": "It is a patch."}
    crew.script("Grace", unusable, unusable, unusable)

    outcome = await crew.team().perform(crew.ctx("impl", agent="Ada"))

    assert outcome.status == "completed", outcome.error
    assert outcome.result["output"].startswith("patch v1")
    assert interactions(crew, InteractionType.FEEDBACK) == []  # no verdict is claimed
    [note] = [
        i
        for i in interactions(crew, InteractionType.COORDINATION)
        if i.context_data.get("review") == "no_verdict"
    ]
    assert (note.from_agent_id, note.to_agent_id) == (crew.id("Grace"), crew.id("Ada"))
    assert note.message.startswith("Grace could not review 'Implement login'")


async def test_a_voter_whose_model_names_no_option_abstains_and_the_others_decide(make_crew):
    crew = make_crew(steps=decision_step(), coordination={"decisionMaking": "majority"})
    crew.script("Ada", vote("sqlite", "one file"))
    unusable = {"choice": "maybe", "rationale": "Databases are useful."}
    crew.script("Grace", unusable, unusable, unusable)
    crew.script("Linus", vote("sqlite", "no server to run"))

    outcome = await crew.team().perform(crew.ctx("pick", agent="Ada"))

    assert outcome.status == "completed", outcome.error
    data = outcome.result["data"]
    assert data["outcome"] == "sqlite" and data["abstained"] == [crew.id("Grace")]
    assert [v["agentId"] for v in data["votes"]] == [crew.id("Ada"), crew.id("Linus")]
    [note] = [
        i
        for i in interactions(crew, InteractionType.COORDINATION)
        if i.from_agent_id == crew.id("Grace")
    ]
    assert note.message.startswith("Grace abstains: its model named none of")


def triage_step():
    return decision_step(name="Bug or feature?", decisionOptions=["bug", "feature"])


TIMEOUT_REPORT = {
    "report": {
        "summary": "Uploads fail with a timeout",
        "output": "Every upload over 10 MB fails with a gateway timeout error since Monday.",
    }
}


async def test_when_no_voters_model_names_an_option_the_evidence_decides(make_crew):
    # A weak model on every seat: prose that names neither option, three times each.
    crew = make_crew(steps=triage_step(), coordination={"decisionMaking": "majority"})
    unusable = {"choice": "maybe", "rationale": "Reports are interesting."}
    for name in ("Ada", "Grace", "Linus"):
        crew.script(name, unusable, unusable, unusable)

    outcome = await crew.team().perform(
        crew.ctx("pick", agent="Ada", dependency_results=TIMEOUT_REPORT)
    )

    assert outcome.status == "completed", outcome.error
    data = outcome.result["data"]
    assert (data["outcome"], data["decidedBy"]) == ("bug", "evidence")
    assert data["votes"] == [] and len(data["abstained"]) == 3
    assert any("timeout" in sentence for sentence in data["evidence"])
    assert "the evidence decided" in outcome.result["output"]
    [note] = [
        i
        for i in interactions(crew, InteractionType.COORDINATION)
        if i.context_data.get("outcome") == "bug"
    ]
    assert "No model named an option" in note.message


async def test_a_consensus_nobody_can_vote_on_and_no_evidence_takes_the_first_option(make_crew):
    crew = make_crew(steps=decision_step(), coordination={"decisionMaking": "consensus"})
    unusable = {"choice": "it depends", "rationale": "Databases store data."}
    for name in ("Ada", "Grace", "Linus"):
        crew.script(name, unusable, unusable, unusable)

    outcome = await crew.team().perform(crew.ctx("pick", agent="Ada"))

    assert outcome.status == "completed", outcome.error
    data = outcome.result["data"]
    assert (data["outcome"], data["decidedBy"], data["rounds"]) == (
        "postgres",
        "first option",
        1,
    )
    assert "the first option listed stands" in outcome.result["output"]


async def test_a_consensus_is_reached_by_those_who_can_vote(make_crew):
    crew = make_crew(steps=decision_step(), coordination={"decisionMaking": "consensus"})
    crew.script("Ada", vote("sqlite", "one file"))
    unusable = {"choice": "maybe", "rationale": "Hard to say."}
    crew.script("Grace", unusable, unusable, unusable)
    crew.script("Linus", vote("sqlite", "no server to run"))

    outcome = await crew.team().perform(crew.ctx("pick", agent="Ada"))

    data = outcome.result["data"]
    assert (data["outcome"], data["converged"], data["abstained"]) == (
        "sqlite",
        True,
        [crew.id("Grace")],
    )
    assert "decidedBy" not in data


async def test_a_coordinator_whose_model_names_no_option_leaves_it_to_the_evidence(make_crew):
    crew = make_crew(
        steps=triage_step(), coordinator="Linus", coordination={"decisionMaking": "coordinator"}
    )
    unusable = {"choice": "unclear", "rationale": "Could be anything."}
    crew.script("Linus", unusable, unusable, unusable)

    outcome = await crew.team().perform(
        crew.ctx("pick", agent="Ada", dependency_results=TIMEOUT_REPORT)
    )

    data = outcome.result["data"]
    assert (data["outcome"], data["decidedBy"], data["abstained"]) == (
        "bug",
        "evidence",
        [crew.id("Linus")],
    )
