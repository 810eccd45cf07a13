import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { McpServer } from "../api/types";
import { McpServerForm, parsePairs } from "./McpServersPage";

const saved: McpServer = {
  id: "s1", userId: "u1", name: "files", transport: "stdio", command: "npx", args: ["-y", "pkg"], env: { TOKEN: "********" },
  cwd: null, url: null, headers: {}, requireApproval: false, createdAt: "", updatedAt: "",
};

/** The server as the browser meets it: records each request, answers with `saved`. */
function recordRequests() {
  const sent: { method: string; url: string; body: unknown }[] = [];
  vi.stubGlobal("fetch", async (url: string, init: RequestInit) => {
    sent.push({ method: init.method ?? "GET", url, body: JSON.parse(String(init.body)) });
    return new Response(JSON.stringify(saved), { status: 200, headers: { "Content-Type": "application/json" } });
  });
  return sent;
}

afterEach(() => vi.unstubAllGlobals());

describe("McpServerForm", () => {
  it("sends secrets only when typed, so editing keeps the saved ones", async () => {
    const sent = recordRequests();
    const onSaved = vi.fn();
    render(<McpServerForm server={saved} onSaved={onSaved} onCancel={() => {}} />);
    const secrets = screen.getByLabelText(/Environment/);
    expect(secrets.getAttribute("placeholder")).toContain("Saved: TOKEN");
    expect((secrets as HTMLTextAreaElement).value).toBe("");
    fireEvent.click(screen.getByLabelText(/approval/));
    fireEvent.click(screen.getByRole("button", { name: "Save MCP server" }));
    await waitFor(() => expect(onSaved).toHaveBeenCalled());
    expect(sent).toEqual([{
      method: "PATCH", url: "/api/v1/mcp-servers/s1",
      body: { name: "files", command: "npx", args: ["-y", "pkg"], cwd: null, requireApproval: true },
    }]);
  });

  it("creates an HTTP server with its headers", async () => {
    const sent = recordRequests();
    render(<McpServerForm onSaved={() => {}} onCancel={() => {}} />);
    fireEvent.change(screen.getByLabelText("Name"), { target: { value: "github" } });
    fireEvent.change(screen.getByLabelText("Transport"), { target: { value: "http" } });
    fireEvent.change(screen.getByLabelText("URL"), { target: { value: "https://gh.test/mcp" } });
    fireEvent.change(screen.getByLabelText(/Headers/), { target: { value: "Authorization=Bearer ${GH_TOKEN}\n" } });
    fireEvent.click(screen.getByRole("button", { name: "Create MCP server" }));
    await waitFor(() => expect(sent).toHaveLength(1));
    expect(sent[0]).toEqual({
      method: "POST", url: "/api/v1/mcp-servers",
      body: { name: "github", url: "https://gh.test/mcp", requireApproval: false, headers: { Authorization: "Bearer ${GH_TOKEN}" } },
    });
  });

  it("refuses a secret line that is not KEY=value before sending anything", () => {
    expect(() => parsePairs("TOKEN", "Environment")).toThrow("Environment: “TOKEN” is not KEY=value");
    expect(parsePairs(" A = b=c \n\n", "Headers")).toEqual({ A: "b=c" });
  });
});
