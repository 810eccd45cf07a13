import { describe, expect, it } from "vitest";
import type { Agent } from "../api/types";
import { successText, suggestAssignments } from "./TemplatesPage";

const agent = (id: string, role: string): Agent => ({
  id, userId: "u1", name: id, role, backstory: "", skills: [], llmProviderId: null, model: null, modelParameters: {},
  tools: [], createdAt: "", updatedAt: "",
});

describe("suggestAssignments", () => {
  it("maps each required role to a different agent, exact roles first", () => {
    const agents = [agent("lead", "Senior Developer"), agent("dev", "developer"), agent("qa", "reviewer")];
    expect(suggestAssignments(["developer", "reviewer", "developer"], agents)).toEqual({
      developer: "lead",
      reviewer: "qa",
    });
    expect(suggestAssignments(["developer", "architect"], agents)).toEqual({ developer: "dev" });
  });
});

describe("successText", () => {
  it("shows the API's percentage as it is", () => {
    expect(successText(100)).toBe("100% succeeded");
    expect(successText(66.67)).toBe("67% succeeded");
  });
});
