// A question an agent put to the user, with a form to answer it.
import { useState } from "react";
import { api, ApiError } from "../api/client";
import type { Interaction } from "../api/types";

const postAnswer = (id: string, message: string) =>
  api.post<Interaction>(`/interactions/${id}/answer`, { message });

export function QuestionCard({ question, agentName, onAnswered, send = postAnswer }: {
  question: Interaction;
  agentName: string;
  onAnswered: (answered: Interaction) => void;
  /** Sends the answer; the server's `POST /interactions/{id}/answer` unless given. */
  send?: (id: string, message: string) => Promise<Interaction>;
}) {
  const [message, setMessage] = useState("");
  const [sending, setSending] = useState(false);
  const [error, setError] = useState<string>();

  const submit = async (event: React.FormEvent) => {
    event.preventDefault();
    if (!message.trim()) return;
    setSending(true);
    setError(undefined);
    try {
      onAnswered(await send(question.id, message.trim()));
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    } finally {
      setSending(false);
    }
  };

  return (
    <form className="question" onSubmit={submit} aria-label={`Question from ${agentName}`}>
      <div className="question-head">
        <span className="badge type-question">Question</span>
        <span className="strong">{agentName}</span>
        {question.relatedStepId && <span className="muted small">in {question.relatedStepId}</span>}
        {question.responseDeadline && (
          <span className="muted small">answer by {new Date(question.responseDeadline).toLocaleTimeString()}</span>
        )}
      </div>
      <p>{question.message}</p>
      <div className="inline-form">
        <input aria-label="Your answer" value={message} placeholder="Your answer"
          onChange={(e) => setMessage(e.target.value)} />
        <button className="button" disabled={sending || !message.trim()}>{sending ? "Sending…" : "Answer"}</button>
      </div>
      {error && <p className="error-text" role="alert">{error}</p>}
    </form>
  );
}
