// The workflow builder: details, team, steps and limits, with a live graph of the steps and
// the server's validation messages shown at the field each one is about.
import { useEffect, useId, useState, type ReactNode } from "react";
import { ApiError } from "../api/client";
import {
  STEP_TYPES,
  WORKFLOW_TYPES,
  type Agent,
  type CreateWorkflowRequest,
  type Problem,
  type StepType,
  type WorkflowStep,
} from "../api/types";
import { StepGraph } from "../components/StepGraph";
import { Card } from "../components/ui";
import { isAt, stepPath, unplaced } from "./problems";

export function emptyStep(index: number, existing: string[]): WorkflowStep {
  let n = index + 1;
  while (existing.includes(`step-${n}`)) n++;
  return {
    id: `step-${n}`,
    name: "",
    description: "",
    type: "implementation",
    requiredSkills: [],
    dependsOn: [],
    instructions: "",
    expectedOutput: "",
    validationCriteria: [],
    reviewRequired: false,
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
      constraints: { maxExecutionTime: 60, maxRetries: 2, allowParallelExecution: true, maxConcurrency: 4 },
    },
  };
}

const splitList = (text: string, separator: RegExp = /,/) =>
  text.split(separator).map((s) => s.trim()).filter(Boolean);

const optionalNumber = (text: string): number | null => (text.trim() === "" ? null : Number(text));

interface BuilderProps {
  agents: Agent[];
  initial: CreateWorkflowRequest;
  /** Asks the server what is wrong with a definition (an empty list when nothing is). */
  validate: (request: CreateWorkflowRequest) => Promise<Problem[]>;
  /** Saves; a rejection with `ApiError.problems` puts them at their fields. */
  onSubmit: (request: CreateWorkflowRequest) => Promise<void>;
  submitLabel: string;
  onCancel?: () => void;
  /** Milliseconds of quiet before the definition is validated again. */
  validateDelay?: number;
}

export function WorkflowBuilder({ agents, initial, validate, onSubmit, submitLabel, onCancel, validateDelay = 400 }: BuilderProps) {
  const [draft, setDraft] = useState<CreateWorkflowRequest>(initial);
  const [problems, setProblems] = useState<Problem[]>([]);
  const [touched, setTouched] = useState(false);
  const [saving, setSaving] = useState(false);
  const [saveError, setSaveError] = useState<string>();
  const steps = draft.configuration.steps;

  // Live validation: the server's compiler is the one source of truth for what is valid.
  useEffect(() => {
    if (!touched) return;
    let current = true;
    const timer = window.setTimeout(() => {
      validate(draft)
        .then((found) => current && setProblems(found))
        .catch((error: unknown) => {
          if (!current) return;
          if (error instanceof ApiError && error.problems.length) setProblems(error.problems);
        });
    }, validateDelay);
    return () => {
      current = false;
      window.clearTimeout(timer);
    };
  }, [draft, touched, validate, validateDelay]);

  const change = (update: (d: CreateWorkflowRequest) => CreateWorkflowRequest) => {
    setTouched(true);
    setDraft(update);
  };
  const set = <K extends keyof CreateWorkflowRequest>(key: K, value: CreateWorkflowRequest[K]) =>
    change((d) => ({ ...d, [key]: value }));
  const setConfig = (section: "coordination" | "constraints", key: string, value: unknown) =>
    change((d) => ({
      ...d,
      configuration: { ...d.configuration, [section]: { ...d.configuration[section], [key]: value } },
    }));
  const setSteps = (update: (s: WorkflowStep[]) => WorkflowStep[]) =>
    change((d) => ({ ...d, configuration: { ...d.configuration, steps: update(d.configuration.steps) } }));
  const updateStep = (index: number, changes: Partial<WorkflowStep>) =>
    setSteps((s) => s.map((step, i) => (i === index ? { ...step, ...changes } : step)));
  const moveStep = (index: number, by: number) =>
    setSteps((s) => {
      const next = [...s];
      const [step] = next.splice(index, 1);
      next.splice(index + by, 0, step);
      return next;
    });

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
        setProblems(error.problems);
        setSaveError("The workflow was not saved: fix the fields marked below.");
      } else {
        setSaveError(error instanceof Error ? error.message : String(error));
      }
    } finally {
      setSaving(false);
    }
  };

  const participants = agents.filter((a) => draft.participatingAgents.includes(a.id));
  const roles = [...new Set(agents.map((a) => a.role))];
  const { steps: stepLevel, general } = unplaced(problems, steps.length);
  const conditional = draft.workflowType === "conditional" || draft.workflowType === "recursive";

  return (
    <form className="builder" onSubmit={submit} noValidate>
      <datalist id="agent-roles">
        {roles.map((r) => <option key={r} value={r} />)}
      </datalist>
      <div className="builder-form">
        <Card title="Workflow details">
          <div className="grid-2">
            <Field label="Name" path="name" problems={problems}>
              {(props) => (
                <input {...props} value={draft.name} placeholder="e.g. Feature development"
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
              <textarea {...props} rows={2} value={draft.description}
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
                    {a.name} <span className="muted">· {a.role}</span>
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
          {steps.map((step, index) => (
            <StepEditor
              key={index}
              index={index}
              step={step}
              steps={steps}
              participants={participants}
              conditional={conditional}
              problems={problems}
              stepProblems={stepLevel[index] ?? []}
              onChange={(changes) => updateStep(index, changes)}
              onRemove={() => setSteps((s) => s.filter((_, i) => i !== index))}
              onMove={(by) => moveStep(index, by)}
            />
          ))}
        </Card>

        <Card title="Limits">
          <div className="grid-3">
            <Field label="Time limit (minutes)" path="configuration.constraints.maxExecutionTime" problems={problems}>
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
          <StepGraph steps={steps} workflowType={draft.workflowType} height={360} vertical />
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
            </div>
          )}
        </Card>
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

const TYPE_LABELS: Record<string, string> = {
  pipeline: "Pipeline (one after another)",
  parallel: "Parallel (dependencies)",
  conditional: "Conditional (branches)",
  recursive: "Recursive (sub-teams)",
};

interface StepEditorProps {
  index: number;
  step: WorkflowStep;
  steps: WorkflowStep[];
  participants: Agent[];
  conditional: boolean;
  problems: Problem[];
  stepProblems: Problem[];
  onChange: (changes: Partial<WorkflowStep>) => void;
  onRemove: () => void;
  onMove: (by: number) => void;
}

function StepEditor({ index, step, steps, participants, conditional, problems, stepProblems, onChange, onRemove, onMove }: StepEditorProps) {
  const p = (field: string) => stepPath(index, field);
  const others = steps.filter((s, i) => i !== index && s.id);
  const unknownDeps = step.dependsOn.filter((d) => !others.some((o) => o.id === d));
  const toggleDep = (id: string) =>
    onChange({ dependsOn: step.dependsOn.includes(id) ? step.dependsOn.filter((d) => d !== id) : [...step.dependsOn, id] });
  const label = `Step ${index + 1}`;

  return (
    <fieldset className="step-editor" aria-label={label} data-testid={`step-editor-${index}`}>
      <legend>
        <span className="badge">{label}</span> {step.name}
      </legend>
      <div className="step-tools">
        <button type="button" className="icon" aria-label={`Move ${label} up`} disabled={index === 0} onClick={() => onMove(-1)}>↑</button>
        <button type="button" className="icon" aria-label={`Move ${label} down`} disabled={index === steps.length - 1} onClick={() => onMove(1)}>↓</button>
        <button type="button" className="icon danger" aria-label={`Remove ${label}`} onClick={onRemove}>✕</button>
      </div>
      {stepProblems.length > 0 && <ProblemList problems={stepProblems} />}
      <div className="grid-3">
        <Field label="Name" path={p("name")} problems={problems}>
          {(props) => <input {...props} value={step.name} placeholder="e.g. Write the code" onChange={(e) => onChange({ name: e.target.value })} />}
        </Field>
        <Field label="ID" path={p("id")} problems={problems}>
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
        ) : (
          <div className="chips" role="group" aria-label={`${label} depends on`}>
            {others.map((o) => (
              <label key={o.id} className={`chip${step.dependsOn.includes(o.id) ? " on" : ""}`}>
                <input type="checkbox" checked={step.dependsOn.includes(o.id)} onChange={() => toggleDep(o.id)} />
                {o.name || o.id}
              </label>
            ))}
            {unknownDeps.map((d) => (
              <label key={d} className="chip on missing" title="No step has this ID">
                <input type="checkbox" checked onChange={() => toggleDep(d)} />
                {d} (missing)
              </label>
            ))}
          </div>
        )}
      </FieldShell>
      <div className="grid-2">
        <Field label="Instructions" path={p("instructions")} problems={problems}>
          {(props) => <textarea {...props} rows={3} value={step.instructions} placeholder="What the agent should do"
            onChange={(e) => onChange({ instructions: e.target.value })} />}
        </Field>
        <Field label="Expected output" path={p("expectedOutput")} problems={problems}>
          {(props) => <textarea {...props} rows={3} value={step.expectedOutput} placeholder="What done looks like"
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
}

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
