import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";

describe("the web chat page's sign-in helper", () => {
  it("is absent unless the server runs locally with IM_DEMO=true", async () => {
    const response = await SELF.fetch("https://im.example/demo/session", { method: "POST", body: JSON.stringify({ userID: "alice" }) });
    expect(response.status).toBe(404);
  });
});
