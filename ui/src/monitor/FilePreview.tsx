// One workspace file shown in place: text as text (markdown rendered, long files cut), images as
// images, anything else as "download it". The file is fetched only when asked for.
import { useEffect, useState } from "react";
import { MarkdownText } from "../components/ui";

const PREVIEW_CHARS = 50_000;
const IMAGE = /\.(png|jpe?g|gif|webp|svg)$/i;
const MARKDOWN = /\.(md|markdown)$/i;

type Loaded = { kind: "text"; text: string; cut: boolean } | { kind: "binary" } | { kind: "error"; message: string };

export function FilePreview({ url, path }: { url: string; path: string }) {
  const [loaded, setLoaded] = useState<Loaded>();
  const image = IMAGE.test(path) && !path.toLowerCase().endsWith(".svg");
  useEffect(() => {
    if (image) return;
    let live = true;
    setLoaded(undefined);
    fetch(url, { credentials: "same-origin" })
      .then(async (response) => {
        if (!response.ok) throw new Error(`The file could not be read (HTTP ${response.status}).`);
        const bytes = new Uint8Array(await response.arrayBuffer());
        // A NUL byte in the first few KB: not text (a zip, a PDF, an executable).
        if (bytes.subarray(0, 8000).includes(0)) return { kind: "binary" } as const;
        const text = new TextDecoder().decode(bytes);
        return { kind: "text", text: text.slice(0, PREVIEW_CHARS), cut: text.length > PREVIEW_CHARS } as const;
      })
      .then((result) => live && setLoaded(result))
      .catch((e: unknown) => live && setLoaded({ kind: "error", message: e instanceof Error ? e.message : String(e) }));
    return () => { live = false; };
  }, [url, image]);

  // SVG could carry script: it is offered as a download, never shown inline.
  if (image) return <img className="file-image" src={url} alt={`Preview of ${path}`} />;
  if (!loaded) return <p className="muted small">Loading {path}…</p>;
  if (loaded.kind === "error") return <p className="error-text small" role="alert">{loaded.message}</p>;
  if (loaded.kind === "binary") return <p className="muted small">Not a text file: download it to open it.</p>;
  return (
    <div className="file-preview" data-testid="file-preview">
      {MARKDOWN.test(path) ? <div dir="auto"><MarkdownText>{loaded.text}</MarkdownText></div> : <pre className="json" dir="auto">{loaded.text}</pre>}
      {loaded.cut && <p className="muted small">Only the first {PREVIEW_CHARS.toLocaleString()} characters are shown; download the file for the rest.</p>}
    </div>
  );
}
