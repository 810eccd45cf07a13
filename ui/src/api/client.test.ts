import { afterEach, describe, expect, it, vi } from "vitest";
import { api } from "./client";

afterEach(() => vi.unstubAllGlobals());

describe("api.get", () => {
  it("follows a list's Link rel=next pages and returns the whole list", async () => {
    const asked: string[] = [];
    const pages: Record<string, { items: number[]; next?: string }> = {
      "/api/v1/agents": { items: [1, 2], next: "/api/v1/agents?cursor=cDI&limit=2" },
      "/api/v1/agents?cursor=cDI&limit=2": { items: [3, 4], next: "/api/v1/agents?cursor=cDQ&limit=2" },
      "/api/v1/agents?cursor=cDQ&limit=2": { items: [5] },
    };
    vi.stubGlobal("fetch", async (url: string) => {
      asked.push(url);
      const page = pages[url];
      const headers: Record<string, string> = { "Content-Type": "application/json" };
      if (page.next) headers.Link = `<${page.next}>; rel="next"`;
      return new Response(JSON.stringify(page.items), { status: 200, headers });
    });
    expect(await api.get<number[]>("/agents")).toEqual([1, 2, 3, 4, 5]);
    expect(asked).toHaveLength(3);
  });
});
