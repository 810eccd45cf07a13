// The workflow builder: details, team, steps and limits, with a live graph of the steps and
// every problem shown at once at the field it is about (the builder's own structural checks
// plus the server's compiler). Built for big workflows: the step list is virtualised past a few
// dozen steps and each step's form re-renders only when that step (or its problems) change.
import { memo, startTransition, useCallback, useDeferredValue, useEffect, useId, useLayoutEffect, useMemo, useRef, useState, type KeyboardEvent, type ReactNode } from "react";
import { useWindowVirtualizer } from "@tanstack/react-virtual";
import { ApiError } from "../api/client";
import {
  STEP_TYPES,
  WORKFLOW_TYPES,
  type Agent,
  type CreateWorkflowRequest,
  type Problem,
  type StepType,
  type Workflow,
  type WorkflowStep,
} from "../api/types";
import { StepGraph } from "../components/StepGraph";
import { Card } from "../components/ui";
import { connectionProblem } from "./connect";
import { humanize, isAt, localProblems, mergeProblems, stepPath, unplaced } from "./problems";

export function emptyStep(index: number, existing: string[]): WorkflowStep {
  let n = index + 1;
  while (existing.includes(`step-${n}`)) n++;
  return {
    id: `step-${n}`,
    name: "",
    description: "",
    type: "implementation",
    assignedAgentRole: null,
    preferredAgentId: null,
    requiredSkills: [],
    dependsOn: [],
    canRunInParallel: false,
    instructions: "",
    expectedOutput: "",
    timeoutMinutes: null,
    validationCriteria: [],
    reviewRequired: false,
    reviewerRole: null,
    condition: null,
    maxRetries: null,
    decisionOptions: [],
    subWorkflowId: null,
  };
}

export function emptyWorkflow(): CreateWorkflowRequest {
  return {
    name: "",
    description: "",
    workflowType: "pipeline",
    participatingAgents: [],
    coordinatorAgentId: null,
    configuration: {
      steps: [],
      coordination: { communicationStyle: "technical", decisionMaking: "coordinator", knowledgeSharing: true },
      constraints: { maxExecutionTime: 3600, maxRetries: 2, allowParallelExecution: true, maxConcurrency: 4 },
    },
  };
}

const splitList = (text: string, separator: RegExp = /,/) =>
  text.split(separator).map((s) => s.trim()).filter(Boolean);

const optionalNumber = (text: string): number | null => (text.trim() === "" ? null : Number(text));

const NO_STEPS: WorkflowStep[] = [];

/** Past this many steps the list renders only the steps in view. */
const VIRTUAL_FROM = 30;
/** Past this many other steps, "Depends on" is a list of chosen steps plus a picker, not a checkbox per step. */
const CHECKBOXES_UP_TO = 12;

/**
 * A step's ID renamed from `from` to `to`: the steps that depend on it, and the conditions that
 * read it (`steps.<id>.…`, `decisions.<id>.…`), follow the new ID instead of silently breaking.
 */
export function renameStepId(steps: WorkflowStep[], index: number, from: string, to: string): WorkflowStep[] {
  const reference = new RegExp(`\\b(steps|decisions)\\.${from.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\b`, "g");
  return steps.map((step, i) => {
    if (i === index) return { ...step, id: to };
    const dependsOn = step.dependsOn.includes(from) ? step.dependsOn.map((d) => (d === from ? to : d)) : step.dependsOn;
    const condition = step.condition && from ? step.condition.replace(reference, `$1.${to}`) : step.condition;
    return dependsOn === step.dependsOn && condition === step.condition ? step : { ...step, dependsOn, condition };
  });
}

interface BuilderProps {
  agents: Agent[];
  /** The user's other workflows, offered as nested teams of a recursive workflow's steps. */
  workflows?: Workflow[];
  initial: CreateWorkflowRequest;
  /** Asks the server what is wrong with a definition (an empty list when nothing is). */
  validate: (request: CreateWorkflowRequest) => Promise<Problem[]>;
  /** Saves; a rejection with `ApiError.problems` puts them at their fields. */
  onSubmit: (request: CreateWorkflowRequest) => Promise<void>;
  submitLabel: string;
  onCancel?: () => void;
  /** Milliseconds of quiet before the definition is validated again. */
  validateDelay?: number;
  /** Told whenever the draft starts or stops differing from what was loaded or saved. */
  onDirtyChange?: (dirty: boolean) => void;
}

export function WorkflowBuilder({ agents, workflows = [], initial, validate, onSubmit, submitLabel, onCancel, validateDelay = 400, onDirtyChange }: BuilderProps) {
  const [draft, setDraft] = useState<CreateWorkflowRequest>(initial);
  const [serverProblems, setServerProblems] = useState<Problem[]>([]);
  const [touched, setTouched] = useState(false);
  const [saving, setSaving] = useState(false);
  const [saveError, setSaveError] = useState<string>();
  const steps = draft.configuration.steps;

  // Live validation: the server's compiler has the last word on what is valid.
  useEffect(() => {
    if (!touched) return;
    let current = true;
    const timer = window.setTimeout(() => {
      validate(draft)
        .then((found) => current && setServerProblems(found))
        .catch((error: unknown) => {
          if (!current) return;
          if (error instanceof ApiError && error.problems.length) setServerProblems(error.problems);
        });
    }, validateDelay);
    return () => {
      current = false;
      window.clearTimeout(timer);
    };
  }, [draft, touched, validate, validateDelay]);

  // The builder's own checks follow every keystroke; the server's catch up after a pause.
  const deferredDraft = useDeferredValue(draft);
  const found = useMemo(() => {
    const local = touched ? localProblems(deferredDraft) : [];
    return mergeProblems(local, serverProblems).map((p) => humanize(p, deferredDraft.configuration.steps));
  }, [deferredDraft, serverProblems, touched]);
  // The same array while the problems are the same, so nothing downstream recomputes per keystroke.
  const problemsKey = JSON.stringify(found);
  const problems = useMemo(() => found, [problemsKey]); // eslint-disable-line react-hooks/exhaustive-deps

  const dirty = draft !== initial;
  useEffect(() => onDirtyChange?.(dirty), [dirty, onDirtyChange]);

  const change = useCallback((update: (d: CreateWorkflowRequest) => CreateWorkflowRequest) => {
    setTouched(true);
    // "Not saved" describes the last save attempt; an edit makes it stale.
    setSaveError(undefined);
    setDraft(update);
  }, []);
  const set = <K extends keyof CreateWorkflowRequest>(key: K, value: CreateWorkflowRequest[K]) =>
    change((d) => ({ ...d, [key]: value }));
  const setConfig = (section: "coordination" | "constraints", key: string, value: unknown) =>
    change((d) => ({
      ...d,
      configuration: { ...d.configuration, [section]: { ...d.configuration[section], [key]: value } },
    }));
  const setSteps = useCallback((update: (s: WorkflowStep[]) => WorkflowStep[]) =>
    change((d) => ({ ...d, configuration: { ...d.configuration, steps: update(d.configuration.steps) } })), [change]);
  // Stable across renders, so an unchanged step's form does not re-render on another's keystroke.
  const updateStep = useCallback((index: number, changes: Partial<WorkflowStep>) =>
    setSteps((s) => {
      const renamed = changes.id !== undefined && changes.id !== s[index].id ? renameStepId(s, index, s[index].id, changes.id) : s;
      return renamed.map((step, i) => (i === index ? { ...step, ...changes } : step));
    }), [setSteps]);
  const removeStep = useCallback((index: number) => setSteps((s) => s.filter((_, i) => i !== index)), [setSteps]);
  const moveStep = useCallback((index: number, by: number) =>
    setSteps((s) => {
      const next = [...s];
      const [step] = next.splice(index, 1);
      next.splice(index + by, 0, step);
      return next;
    }), [setSteps]);

  const toggleAgent = (id: string) =>
    change((d) => {
      const included = d.participatingAgents.includes(id);
      const participatingAgents = included
        ? d.participatingAgents.filter((a) => a !== id)
        : [...d.participatingAgents, id];
      const coordinatorAgentId = included && d.coordinatorAgentId === id ? null : d.coordinatorAgentId;
      return { ...d, participatingAgents, coordinatorAgentId };
    });

  const submit = async (event: React.FormEvent) => {
    event.preventDefault();
    setSaving(true);
    setSaveError(undefined);
    try {
      await onSubmit(draft);
    } catch (error) {
      if (error instanceof ApiError && error.problems.length) {
        setServerProblems(error.problems);
        setSaveError("The workflow was not saved: fix the fields marked below.");
      } else {
        setSaveError(error instanceof Error ? error.message : String(error));
      }
    } finally {
      setSaving(false);
    }
  };

  // Enter in a one-line field would submit the whole form mid-edit: only the Save button saves.
  const holdEnter = (event: KeyboardEvent<HTMLFormElement>) => {
    const target = event.target as HTMLElement;
    if (event.key === "Enter" && target instanceof HTMLInputElement && target.type !== "submit" && target.type !== "button") {
      event.preventDefault();
    }
  };

  const participantIds = draft.participatingAgents.join(",");
  const participants = useMemo(() => agents.filter((a) => draft.participatingAgents.includes(a.id)), [agents, participantIds]); // eslint-disable-line react-hooks/exhaustive-deps
  const roles = [...new Set(agents.map((a) => a.role))];
  const { steps: stepLevel, general } = useMemo(() => unplaced(problems, steps.length), [problems, steps.length]);
  const conditional = draft.workflowType === "conditional" || draft.workflowType === "recursive";
  const recursive = draft.workflowType === "recursive";

  // Each step's problems, kept as the same array while they do not change (for memo).
  const perStep = useRef(new Map<number, { key: string; list: Problem[] }>());
  const stepProblems = (index: number): Problem[] => {
    const prefix = stepPath(index);
    const list = problems.filter((p) => isAt(p.field, prefix));
    for (const p of stepLevel[index] ?? []) if (!list.includes(p)) list.push(p);
    const key = JSON.stringify(list);
    const cached = perStep.current.get(index);
    if (cached && cached.key === key) return cached.list;
    perStep.current.set(index, { key, list });
    return list;
  };
  // The other steps, as choices for "Depends on": the same array until an ID or name changes.
  const choicesKey = steps.map((s) => `${s.id}\u0000${s.name}`).join("\u0001");
  const currentChoices = useMemo(() => steps.map((s) => ({ id: s.id, name: s.name })), [choicesKey]); // eslint-disable-line react-hooks/exhaustive-deps
  // A name typed in one step renames a choice in every step form in view (hundreds of options in
  // each picker): that follows in a background render, so the keystroke commits only the form typed in.
  const choices = useDeferredValue(currentChoices);
  // The preview graph only needs a step's shape and label, and may lag a keystroke behind.
  const graphKey = steps.map((s) => [s.id, s.name, s.type, s.dependsOn.join(","), s.condition ? 1 : 0, s.reviewRequired ? 1 : 0].join("\u0000")).join("\u0001");
  // Redrawing a big graph costs more than a keystroke may, so it follows once typing pauses; on
  // opening a big workflow it is drawn just after the forms, which are what a user reaches for.
  const graphSteps = useSettled(useMemo(() => steps, [graphKey]), steps.length > VIRTUAL_FROM ? 350 : 0, steps.length > VIRTUAL_FROM ? NO_STEPS : undefined); // eslint-disable-line react-hooks/exhaustive-deps

  const list = useRef<HTMLDivElement>(null);
  const virtual = steps.length > VIRTUAL_FROM;
  const jumpTo = useRef<(index: number) => void>(() => {});
  // Stable, so that the memoised graph is not redrawn on every keystroke for a new callback.
  const latestSteps = useRef(steps);
  latestSteps.current = steps;
  const latestType = useRef(draft.workflowType);
  latestType.current = draft.workflowType;
  const [connected, setConnected] = useState<{ ok: boolean; message: string }>();
  const onGraphConnect = useCallback((source: string, target: string) => {
    const all = latestSteps.current;
    const problem = connectionProblem(all, latestType.current, source, target);
    const name = (id: string) => `“${all.find((s) => s.id === id)?.name || id}”`;
    if (problem) {
      setConnected({ ok: false, message: problem });
      return;
    }
    setConnected({ ok: true, message: `${name(target)} now depends on ${name(source)}.` });
    setSteps((s) => s.map((step) => (step.id === target ? { ...step, dependsOn: [...step.dependsOn, source] } : step)));
  }, [setSteps]);
  const onGraphSelect = useCallback((stepId: string) => {
    const index = latestSteps.current.findIndex((s) => s.id === stepId);
    if (index >= 0) jumpTo.current(index);
  }, []);

  return (
    <form className="builder" onSubmit={submit} onKeyDown={holdEnter} noValidate>
      <datalist id="agent-roles">
        {roles.map((r) => <option key={r} value={r} />)}
      </datalist>
      <div className="builder-form">
        <Card title="Workflow details">
          <div className="grid-2">
            <Field label="Name" path="name" problems={problems}>
              {(props) => (
                <input {...props} value={draft.name} placeholder="e.g. Feature development" dir="auto"
                  onChange={(e) => set("name", e.target.value)} />
              )}
            </Field>
            <Field label="Type" path="workflowType" problems={problems}>
              {(props) => (
                <select {...props} value={draft.workflowType}
                  onChange={(e) => set("workflowType", e.target.value as CreateWorkflowRequest["workflowType"])}>
                  {WORKFLOW_TYPES.map((t) => <option key={t} value={t}>{TYPE_LABELS[t]}</option>)}
                </select>
              )}
            </Field>
          </div>
          <Field label="Description" path="description" problems={problems}>
            {(props) => (
              <textarea {...props} rows={2} value={draft.description} dir="auto"
                placeholder="What this workflow accomplishes"
                onChange={(e) => set("description", e.target.value)} />
            )}
          </Field>
        </Card>

        <Card title="Team">
          <FieldShell label="Participating agents" path="participatingAgents" problems={problems}>
            {agents.length === 0 ? (
              <p className="muted">You have no agents yet. Create agents first, then come back.</p>
            ) : (
              <div className="chips" role="group" aria-label="Participating agents">
                {agents.map((a) => (
                  <label key={a.id} className={`chip${draft.participatingAgents.includes(a.id) ? " on" : ""}`}>
                    <input type="checkbox" checked={draft.participatingAgents.includes(a.id)}
                      onChange={() => toggleAgent(a.id)} />
                    <bdi>{a.name}</bdi> <span className="muted">· {a.role}</span>
                  </label>
                ))}
              </div>
            )}
          </FieldShell>
          <div className="grid-2">
            <Field label="Coordinator" path="coordinatorAgentId" problems={problems}>
              {(props) => (
                <select {...props} value={draft.coordinatorAgentId ?? ""}
                  onChange={(e) => set("coordinatorAgentId", e.target.value || null)}>
                  <option value="">No coordinator</option>
                  {participants.map((a) => <option key={a.id} value={a.id}>{a.name} · {a.role}</option>)}
                </select>
              )}
            </Field>
            <Field label="Decisions" path="configuration.coordination.decisionMaking" problems={problems}>
              {(props) => (
                <select {...props} value={draft.configuration.coordination.decisionMaking}
                  onChange={(e) => setConfig("coordination", "decisionMaking", e.target.value)}>
                  <option value="coordinator">The coordinator decides</option>
                  <option value="consensus">Consensus</option>
                  <option value="majority">Majority vote</option>
                </select>
              )}
            </Field>
          </div>
        </Card>

        <Card
          title={`Steps (${steps.length})`}
          actions={
            <button type="button" className="button small"
              onClick={() => setSteps((s) => [...s, emptyStep(s.length, s.map((x) => x.id))])}>
              Add step
            </button>
          }
        >
          <FieldErrors path="configuration.steps" problems={problems} exact />
          {steps.length === 0 && (
            <p className="muted">No steps yet. Click “Add step” to describe the first piece of work.</p>
          )}
          <StepList
            virtual={virtual}
            listRef={list}
            count={steps.length}
            jumpTo={jumpTo}
            render={(index) => (
              <StepEditor
                index={index}
                step={steps[index]}
                count={steps.length}
                choices={choices}
                participants={participants}
                workflows={recursive ? workflows : undefined}
                conditional={conditional}
                problems={stepProblems(index)}
                onChange={updateStep}
                onRemove={removeStep}
                onMove={moveStep}
              />
            )}
          />
        </Card>

        <Card title="Limits">
          <div className="grid-3">
            <Field label="Time limit (seconds)" path="configuration.constraints.maxExecutionTime" problems={problems}>
              {(props) => (
                <input {...props} type="number" min={0} value={draft.configuration.constraints.maxExecutionTime ?? ""}
                  onChange={(e) => setConfig("constraints", "maxExecutionTime", optionalNumber(e.target.value))} />
              )}
            </Field>
            <Field label="Retries per step" path="configuration.constraints.maxRetries" problems={problems}>
              {(props) => (
                <input {...props} type="number" min={0} value={draft.configuration.constraints.maxRetries ?? ""}
                  onChange={(e) => setConfig("constraints", "maxRetries", optionalNumber(e.target.value))} />
              )}
            </Field>
            <Field label="Steps at once" path="configuration.constraints.maxConcurrency" problems={problems}>
              {(props) => (
                <input {...props} type="number" min={1} value={draft.configuration.constraints.maxConcurrency ?? 4}
                  onChange={(e) => setConfig("constraints", "maxConcurrency", Number(e.target.value))} />
              )}
            </Field>
            <Field label="Token budget" path="configuration.constraints.budgetTokens" problems={problems}>
              {(props) => (
                <input {...props} type="number" min={1} placeholder="No limit"
                  value={draft.configuration.constraints.budgetTokens ?? ""}
                  onChange={(e) => setConfig("constraints", "budgetTokens", optionalNumber(e.target.value))} />
              )}
            </Field>
            <Field label="Cost budget (USD)" path="configuration.constraints.budgetUsd" problems={problems}>
              {(props) => (
                <input {...props} type="number" min={0} step="0.01" placeholder="No limit"
                  value={draft.configuration.constraints.budgetUsd ?? ""}
                  onChange={(e) => setConfig("constraints", "budgetUsd", optionalNumber(e.target.value))} />
              )}
            </Field>
            <label className="check">
              <input type="checkbox" checked={draft.configuration.constraints.allowParallelExecution !== false}
                onChange={(e) => setConfig("constraints", "allowParallelExecution", e.target.checked)} />
              Run independent steps in parallel
            </label>
          </div>
        </Card>
      </div>

      <aside className="builder-side">
        <Card title="Preview">
          {graphSteps.length === 0 && steps.length > 0
            ? <div className="graph-empty" style={{ height: 360 }}>Drawing the graph…</div>
            : <StepGraph steps={graphSteps} workflowType={draft.workflowType} height={360} vertical onSelect={onGraphSelect}
                onConnect={onGraphConnect} />}
          {steps.length > 1 && (
            <p className={connected && !connected.ok ? "error-text small" : "hint"} role="status" data-testid="connect-status">
              {connected?.message ?? "Drag from the bottom of a step to another step to make the second depend on the first."}
            </p>
          )}
        </Card>
        <Card title="Check">
          {!touched && problems.length === 0 ? (
            <p className="muted">The server checks the workflow as you edit it.</p>
          ) : problems.length === 0 ? (
            <p className="ok" role="status">No problems found.</p>
          ) : (
            <div role="status">
              <p className="error-text">
                {problems.length} problem{problems.length === 1 ? "" : "s"} to fix
                {general.length < problems.length ? " (marked at their fields)" : ""}.
              </p>
              {general.length > 0 && <ProblemList problems={general} />}
              <ProblemIndex problems={problems} general={general} steps={steps} onJump={(i) => jumpTo.current(i)} />
            </div>
          )}
        </Card>
        {dirty && !saveError && <p className="muted small" data-testid="unsaved">Unsaved changes.</p>}
        {saveError && <div className="error-state" role="alert">{saveError}</div>}
        <div className="actions end">
          {onCancel && <button type="button" className="button secondary" onClick={onCancel}>Cancel</button>}
          <button type="submit" className="button" disabled={saving}>
            {saving ? "Saving…" : submitLabel}
          </button>
        </div>
      </aside>
    </form>
  );
}

/** `value`, once it has stayed the same for `delay` ms (at once when `delay` is 0); `initial`
 * until then (the first value itself unless given). The update is a transition: React renders
 * it in slices between keystrokes instead of holding the page until a big graph is drawn. */
function useSettled<T>(value: T, delay: number, initial: T = value): T {
  const [settled, setSettled] = useState<T>(initial);
  useEffect(() => {
    if (delay === 0) {
      setSettled(value);
      return;
    }
    const timer = window.setTimeout(() => startTransition(() => setSettled(value)), delay);
    return () => window.clearTimeout(timer);
  }, [value, delay]);
  return delay === 0 ? value : settled;
}

/** Links to the steps that have problems, so a 300-step workflow's faults are one click away. */
function ProblemIndex({ problems, general, steps, onJump }: { problems: Problem[]; general: Problem[]; steps: WorkflowStep[]; onJump: (index: number) => void }) {
  const indices = [...new Set(problems.filter((p) => !general.includes(p)).map((p) => /^configuration\.steps\[(\d+)\]/.exec(p.field)?.[1]).filter(Boolean).map(Number))];
  if (indices.length === 0) return null;
  return (
    <ul className="problem-index">
      {indices.slice(0, 50).map((i) => (
        <li key={i}><button type="button" className="linklike" onClick={() => onJump(i)}>Step {i + 1}{steps[i]?.name ? <>: <bdi>{steps[i].name}</bdi></> : ""}</button></li>
      ))}
    </ul>
  );
}

type StepListProps = {
  listRef: React.RefObject<HTMLDivElement | null>;
  count: number;
  render: (index: number) => ReactNode;
  jumpTo: React.RefObject<(index: number) => void>;
};

/** Scrolls a step's form into view and puts the cursor in its first field, once it is rendered. */
function focusStep(index: number, triesLeft = 10) {
  const input = document.querySelector<HTMLInputElement>(`[data-testid="step-editor-${index}"] input`);
  if (input) {
    input.scrollIntoView({ block: "center" });
    input.focus({ preventScroll: true });
  } else if (triesLeft > 0) window.setTimeout(() => focusStep(index, triesLeft - 1), 50);
}

/** The step forms: all of them for a small workflow, only those in view for a big one. */
function StepList({ virtual, ...props }: StepListProps & { virtual: boolean }) {
  if (virtual) return <VirtualStepList {...props} />;
  const { listRef, count, render, jumpTo } = props;
  jumpTo.current = (index: number) => focusStep(index);
  return <div ref={listRef} className="step-list">{Array.from({ length: count }, (_, i) => <div key={i}>{render(i)}</div>)}</div>;
}

function VirtualStepList({ listRef, count, render, jumpTo }: StepListProps) {
  const [margin, setMargin] = useState(0);
  useLayoutEffect(() => {
    if (listRef.current) setMargin(listRef.current.getBoundingClientRect().top + window.scrollY);
  }, [listRef]);
  const virtualizer = useWindowVirtualizer({ count, estimateSize: () => 430, overscan: 2, scrollMargin: margin });
  jumpTo.current = (index: number) => {
    virtualizer.scrollToIndex(index, { align: "start" });
    focusStep(index);
  };
  return (
    <div ref={listRef} className="step-list" style={{ height: virtualizer.getTotalSize(), position: "relative" }}>
      {virtualizer.getVirtualItems().map((item) => (
        <div key={item.key} data-index={item.index} ref={virtualizer.measureElement}
          style={{ position: "absolute", top: 0, left: 0, width: "100%", paddingBottom: 12, transform: `translateY(${item.start - margin}px)` }}>
          {render(item.index)}
        </div>
      ))}
    </div>
  );
}

const TYPE_LABELS: Record<string, string> = {
  pipeline: "Pipeline (one after another)",
  parallel: "Parallel (dependencies)",
  conditional: "Conditional (branches)",
  recursive: "Recursive (sub-teams)",
};

interface StepEditorProps {
  index: number;
  step: WorkflowStep;
  count: number;
  choices: { id: string; name: string }[];
  participants: Agent[];
  workflows?: Workflow[];
  conditional: boolean;
  /** This step's problems only (the same array while they do not change). */
  problems: Problem[];
  onChange: (index: number, changes: Partial<WorkflowStep>) => void;
  onRemove: (index: number) => void;
  onMove: (index: number, by: number) => void;
}

const StepEditor = memo(function StepEditor({ index, step, count, choices, participants, workflows, conditional, problems, onChange: change, onRemove, onMove }: StepEditorProps) {
  const onChange = (changes: Partial<WorkflowStep>) => change(index, changes);
  const p = (field: string) => stepPath(index, field);
  const others = choices.filter((s, i) => i !== index && s.id);
  const unknownDeps = step.dependsOn.filter((d) => !others.some((o) => o.id === d));
  const toggleDep = (id: string) =>
    onChange({ dependsOn: step.dependsOn.includes(id) ? step.dependsOn.filter((d) => d !== id) : [...step.dependsOn, id] });
  const label = `Step ${index + 1}`;
  const placed = new Set(problems.filter((pr) => STEP_FIELD_PATHS.some((f) => isAt(pr.field, p(f)))));
  const stepLevel = problems.filter((pr) => !placed.has(pr));
  const nameOf = (id: string) => others.find((o) => o.id === id)?.name || id;

  return (
    <fieldset className="step-editor" aria-label={label} data-testid={`step-editor-${index}`}>
      <legend>
        <span className="badge">{label}</span> <bdi>{step.name}</bdi>
      </legend>
      <div className="step-tools">
        <button type="button" className="icon" aria-label={`Move ${label} up`} disabled={index === 0} onClick={() => onMove(index, -1)}>↑</button>
        <button type="button" className="icon" aria-label={`Move ${label} down`} disabled={index === count - 1} onClick={() => onMove(index, 1)}>↓</button>
        <button type="button" className="icon danger" aria-label={`Remove ${label}`} onClick={() => onRemove(index)}>✕</button>
      </div>
      {stepLevel.length > 0 && <ProblemList problems={stepLevel} />}
      <div className="grid-3">
        <Field label="Name" path={p("name")} problems={problems}>
          {(props) => <input {...props} value={step.name} placeholder="e.g. Write the code" dir="auto" onChange={(e) => onChange({ name: e.target.value })} />}
        </Field>
        <Field label="ID" path={p("id")} problems={problems} hint="Other steps and conditions refer to it; renaming updates them.">
          {(props) => <input {...props} value={step.id} onChange={(e) => onChange({ id: e.target.value.trim() })} />}
        </Field>
        <Field label="Type" path={p("type")} problems={problems}>
          {(props) => (
            <select {...props} value={step.type} onChange={(e) => onChange({ type: e.target.value as StepType })}>
              {STEP_TYPES.map((t) => <option key={t} value={t}>{t}</option>)}
            </select>
          )}
        </Field>
        <Field label="Role" path={p("assignedAgentRole")} problems={problems}>
          {(props) => <input {...props} list="agent-roles" value={step.assignedAgentRole ?? ""} placeholder="Any role"
            onChange={(e) => onChange({ assignedAgentRole: e.target.value || null })} />}
        </Field>
        <Field label="Preferred agent" path={p("preferredAgentId")} problems={problems}>
          {(props) => (
            <select {...props} value={step.preferredAgentId ?? ""} onChange={(e) => onChange({ preferredAgentId: e.target.value || null })}>
              <option value="">Let the team decide</option>
              {participants.map((a) => <option key={a.id} value={a.id}>{a.name}</option>)}
            </select>
          )}
        </Field>
        <Field label="Skills (comma-separated)" path={p("requiredSkills")} problems={problems}>
          {(props) => <ListInput {...props} value={step.requiredSkills} onChange={(requiredSkills) => onChange({ requiredSkills })} />}
        </Field>
      </div>
      <FieldShell label="Depends on" path={p("dependsOn")} problems={problems}>
        {others.length === 0 && unknownDeps.length === 0 ? (
          <p className="muted small">No other steps to depend on.</p>
        ) : others.length <= CHECKBOXES_UP_TO ? (
          <div className="chips" role="group" aria-label={`${label} depends on`}>
            {others.map((o) => (
              <label key={o.id} className={`chip${step.dependsOn.includes(o.id) ? " on" : ""}`}>
                <input type="checkbox" checked={step.dependsOn.includes(o.id)} onChange={() => toggleDep(o.id)} />
                <bdi>{o.name || o.id}</bdi>
              </label>
            ))}
            {unknownDeps.map((d) => (
              <label key={d} className="chip on missing" title="No step has this ID">
                <input type="checkbox" checked onChange={() => toggleDep(d)} />
                {d} (missing)
              </label>
            ))}
          </div>
        ) : (
          <div className="chips" role="group" aria-label={`${label} depends on`}>
            {step.dependsOn.map((d) => (
              <span key={d} className={`chip on${unknownDeps.includes(d) ? " missing" : ""}`}>
                <bdi>{unknownDeps.includes(d) ? `${d} (missing)` : nameOf(d)}</bdi>
                <button type="button" className="chip-remove" aria-label={`Stop depending on ${nameOf(d)}`} onClick={() => toggleDep(d)}>✕</button>
              </span>
            ))}
            <select aria-label={`Add a step that ${label} depends on`} value="" className="dep-picker"
              onChange={(e) => e.target.value && toggleDep(e.target.value)}>
              <option value="">Add a dependency…</option>
              {others.filter((o) => !step.dependsOn.includes(o.id)).map((o) => <option key={o.id} value={o.id}>{o.name || o.id}</option>)}
            </select>
          </div>
        )}
      </FieldShell>
      <div className="grid-2">
        <Field label="Instructions" path={p("instructions")} problems={problems}>
          {(props) => <textarea {...props} rows={3} value={step.instructions} placeholder="What the agent should do" dir="auto"
            onChange={(e) => onChange({ instructions: e.target.value })} />}
        </Field>
        <Field label="Expected output" path={p("expectedOutput")} problems={problems}>
          {(props) => <textarea {...props} rows={3} value={step.expectedOutput} placeholder="What done looks like" dir="auto"
            onChange={(e) => onChange({ expectedOutput: e.target.value })} />}
        </Field>
      </div>
      {(conditional || step.condition) && (
        <Field label="Condition" path={p("condition")} problems={problems}
          hint='Runs only when true, e.g. steps.review.data.approved == true'>
          {(props) => <input {...props} value={step.condition ?? ""} placeholder="Always run"
            onChange={(e) => onChange({ condition: e.target.value || null })} />}
        </Field>
      )}
      {workflows && (
        <Field label="Nested team (sub-workflow)" path={p("subWorkflowId")} problems={problems}
          hint="This step runs that workflow as a child execution.">
          {(props) => (
            <>
              <select {...props} value={step.subWorkflowId ?? ""} onChange={(e) => onChange({ subWorkflowId: e.target.value || null })}>
                <option value="">None: the agents do this step themselves</option>
                {workflows.map((w) => (
                  <option key={w.id} value={w.id}>{w.name} ({w.configuration.steps.length} step{w.configuration.steps.length === 1 ? "" : "s"}, {w.workflowType})</option>
                ))}
              </select>
              {step.subWorkflowId && workflows.some((w) => w.id === step.subWorkflowId) && (
                // A new tab: leaving would lose this form's unsaved work.
                <a className="small" href={`/workflows/${step.subWorkflowId}`} target="_blank" rel="noreferrer">
                  Open the sub-workflow (new tab)
                </a>
              )}
            </>
          )}
        </Field>
      )}
      {step.type === "decision" && (
        <Field label="Options (comma-separated)" path={p("decisionOptions")} problems={problems}>
          {(props) => <ListInput {...props} value={step.decisionOptions ?? []} onChange={(decisionOptions) => onChange({ decisionOptions })} />}
        </Field>
      )}
      <div className="review-row">
        <FieldShell label="Review" path={p("reviewRequired")} problems={problems}>
          <label className="check">
            <input type="checkbox" checked={step.reviewRequired} onChange={(e) => onChange({ reviewRequired: e.target.checked })} />
            Another agent reviews this step
          </label>
        </FieldShell>
        {step.reviewRequired && (
          <>
            <Field label="Reviewer role" path={p("reviewerRole")} problems={problems}>
              {(props) => <input {...props} list="agent-roles" value={step.reviewerRole ?? ""} placeholder="Any other agent"
                onChange={(e) => onChange({ reviewerRole: e.target.value || null })} />}
            </Field>
            <Field label="Review criteria (one per line)" path={p("validationCriteria")} problems={problems}>
              {(props) => <ListInput {...props} lines={2} value={step.validationCriteria}
                onChange={(validationCriteria) => onChange({ validationCriteria })} />}
            </Field>
          </>
        )}
        <Field label="Retries" path={p("maxRetries")} problems={problems}>
          {(props) => <input {...props} type="number" min={0} placeholder="Default" value={step.maxRetries ?? ""}
            onChange={(e) => onChange({ maxRetries: optionalNumber(e.target.value) })} />}
        </Field>
        <Field label="Timeout (minutes)" path={p("timeoutMinutes")} problems={problems}>
          {(props) => <input {...props} type="number" min={0} placeholder="None" value={step.timeoutMinutes ?? ""}
            onChange={(e) => onChange({ timeoutMinutes: optionalNumber(e.target.value) })} />}
        </Field>
      </div>
    </fieldset>
  );
});

/** The step fields that show their own problems (the rest are listed at the top of the step). */
const STEP_FIELD_PATHS = ["id", "name", "type", "assignedAgentRole", "preferredAgentId", "requiredSkills", "dependsOn",
  "instructions", "expectedOutput", "condition", "subWorkflowId", "decisionOptions", "reviewRequired", "reviewerRole",
  "validationCriteria", "maxRetries", "timeoutMinutes"];

/** A list edited as text (comma- or line-separated) that keeps what the user types. */
function ListInput({ value, onChange, lines, ...props }: InputProps & {
  value: string[];
  onChange: (v: string[]) => void;
  lines?: number;
}) {
  const separator = lines ? /\n/ : /,/;
  const joined = value.join(lines ? "\n" : ", ");
  const [text, setText] = useState(joined);
  // Follow the value when it changes from outside (a step moved or removed above this one).
  if (splitList(text, separator).join("\u0000") !== value.join("\u0000")) setText(joined);
  const edit = (next: string) => {
    setText(next);
    onChange(splitList(next, separator));
  };
  return lines ? (
    <textarea {...props} rows={lines} value={text} onChange={(e) => edit(e.target.value)} />
  ) : (
    <input {...props} value={text} onChange={(e) => edit(e.target.value)} />
  );
}

interface InputProps {
  id: string;
  "aria-invalid": boolean;
  "aria-describedby": string | undefined;
}

function Field({ label, path, problems, hint, children }: {
  label: string;
  path: string;
  problems: Problem[];
  hint?: string;
  children: (props: InputProps) => ReactNode;
}) {
  const id = useId();
  const here = problems.filter((pr) => isAt(pr.field, path));
  return (
    <div className={`field${here.length ? " invalid" : ""}`} data-field={path}>
      <label htmlFor={id}>{label}</label>
      {children({ id, "aria-invalid": here.length > 0, "aria-describedby": here.length ? `${id}-problems` : undefined })}
      {hint && !here.length && <div className="hint">{hint}</div>}
      {here.length > 0 && <ProblemList id={`${id}-problems`} problems={here} />}
    </div>
  );
}

/** A field made of several controls (checkbox groups): problems below, no single label target. */
function FieldShell({ label, path, problems, children }: { label: string; path: string; problems: Problem[]; children: ReactNode }) {
  const here = problems.filter((pr) => isAt(pr.field, path));
  return (
    <div className={`field${here.length ? " invalid" : ""}`} data-field={path}>
      <span className="label">{label}</span>
      {children}
      {here.length > 0 && <ProblemList problems={here} />}
    </div>
  );
}

function FieldErrors({ path, problems, exact }: { path: string; problems: Problem[]; exact?: boolean }) {
  const here = problems.filter((pr) => (exact ? pr.field === path : isAt(pr.field, path)));
  return here.length ? <div data-field={path}><ProblemList problems={here} /></div> : null;
}

function ProblemList({ problems, id }: { problems: Problem[]; id?: string }) {
  return (
    <ul className="problems" id={id}>
      {problems.map((pr, i) => (
        <li key={i}>
          {pr.message}
          {pr.fix && <span className="fix">: {pr.fix}</span>}
        </li>
      ))}
    </ul>
  );
}
