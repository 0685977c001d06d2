/**
 * The console in real Chromium against `wrangler dev`: the deployment's operator signs in,
 * creates an app, sets its recall window and callback URL, imports users and sends a message
 * that a WebSocket client of the new app receives; the new app's own operator sees that app
 * only. A screenshot of each page goes to test-results/console/.
 */
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot, startServerWithOwnKey, type RunningServer } from "../../scripts/dev-server.ts";
import { generateUserSig } from "../../src/domain/usersig.ts";
import { connectTo } from "./clients.ts";

const executablePath = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => existsSync(p));
const shots = join(repoRoot, "test-results", "console");

describe.skipIf(!executablePath && !process.env.CI)("the console in Chromium", () => {
  let server: RunningServer;
  let consoleKey: string;
  let defaultAppId: number;
  let browser: Browser;
  const stamp = Date.now().toString(36);
  const alice = `alice_${stamp}`;
  const bob = `bob_${stamp}`;
  let created: { sdkAppId: number; secretKey: string };

  beforeAll(async () => {
    if (!executablePath) throw new Error("Chromium is not installed (apt-get install chromium)");
    mkdirSync(shots, { recursive: true });
    const started = await startServerWithOwnKey();
    server = started.server;
    consoleKey = started.app.consoleKey;
    defaultAppId = started.app.sdkAppId;
    browser = await chromium.launch({
      executablePath,
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  async function shot(page: Page, name: string): Promise<void> {
    await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
  }

  /** Fills the form of the card titled `title` and submits it. */
  async function fillAndSend(page: Page, title: string, values: Record<string, string>) {
    const card = page.locator("section.card", { has: page.getByRole("heading", { name: title, exact: true }) });
    for (const [label, value] of Object.entries(values)) await card.getByLabel(label, { exact: true }).fill(value);
    await card.locator("button[type=submit]").click();
    return card;
  }

  /** Submits the card's form and resolves with what its output shows. */
  async function submit(page: Page, title: string, values: Record<string, string>, expectText?: string | RegExp) {
    const card = await fillAndSend(page, title, values);
    const output = card.locator(".output");
    await output.locator(":scope > *").first().waitFor();
    // The output is filled once, when the command has answered.
    const text = (await output.textContent()) ?? "";
    if (expectText) expect(text).toMatch(expectText);
    return text;
  }

  /** An admin REST call on the created app. */
  async function restOnCreated(path: string, body: unknown): Promise<Record<string, unknown>> {
    const userSig = await generateUserSig({ sdkAppId: created.sdkAppId, secretKey: created.secretKey, identifier: "administrator" });
    const url = `${server.base}/v4/${path}?sdkappid=${created.sdkAppId}&identifier=administrator&usersig=${userSig}&random=1&contenttype=json`;
    return (await (await fetch(url, { method: "POST", body: JSON.stringify(body) })).json()) as Record<string, unknown>;
  }

  it("lets the deployment's operator create and run an app", async () => {
    const context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
    const page = await context.newPage();
    const started = Date.now();
    await page.goto(`${server.base}/console/`);
    await page.getByRole("heading", { level: 1, name: "Sign in" }).waitFor();
    expect(Date.now() - started).toBeLessThan(5000);
    await shot(page, "1-sign-in");

    await submit(page, "Deployment operator", { "Console key": "wrong" }, "the console key is wrong");
    await fillAndSend(page, "Deployment operator", { "Console key": consoleKey });
    await page.getByRole("heading", { level: 1, name: "Apps", exact: true }).waitFor();
    await page.locator("table a", { hasText: String(defaultAppId) }).waitFor();

    await submit(page, "Create an app", { Name: "e2e shop", "Admin accounts": "administrator" }, "shown only now");
    created = { sdkAppId: Number(await page.locator("#created-sdkappid").textContent()), secretKey: String(await page.locator("#created-key").textContent()) };
    expect(created.secretKey).toMatch(/^[0-9a-f]{64}$/);
    await shot(page, "2-apps");

    await page.locator("#created-app").click();
    await page.getByRole("heading", { level: 1, name: `App · ${created.sdkAppId}` }).waitFor();
    await page.getByRole("heading", { name: "Settings", exact: true }).waitFor();
    await submit(page, "Settings", { "Recall window (seconds)": "-5" }, "Settings.recallWindowSeconds");
    await submit(page, "Settings", { "Recall window (seconds)": "300" }, "Settings saved.");
    await submit(page, "Callbacks", { "Callback URL": "https://backend.example/im", "Callback commands": "C2C.CallbackAfterSendMsg" }, "Callbacks saved.");
    await shot(page, "3-app-settings");
    expect(((await restOnCreated("edgeim_admin_svc/get_app", {})).Settings as { recallWindowSeconds: number }).recallWindowSeconds).toBe(300);
    expect(await restOnCreated("edgeim_admin_svc/get_callback", {})).toMatchObject({ CallbackUrl: "https://backend.example/im", CallbackCommands: ["C2C.CallbackAfterSendMsg"] });
    // The callback receiver does not exist: the after-callback fails quietly and the message still flows.

    await page.getByRole("link", { name: "Users", exact: true }).click();
    await page.getByRole("heading", { name: "Import a user", exact: true }).waitFor();
    await submit(page, "Import a user", { "User ID": alice, Nickname: "Alice" }, `Imported ${alice}.`);
    await submit(page, "Import a user", { "User ID": bob }, `Imported ${bob}.`);
    await submit(page, "Find a user", { "User ID": alice }, "Alice");
    await shot(page, "4-users");

    const bobClient = await connectTo(server, created, bob, "e2e");
    await page.getByRole("link", { name: "Messages", exact: true }).click();
    await submit(page, "Send a one-to-one message", { "From (empty: the app's admin)": alice, To: bob, Text: "hello from the console" }, "Sent. MsgKey");
    await bobClient.until(() => bobClient.events.find((e) => JSON.stringify(e.data).includes("hello from the console")), "the console's message at bob's device");
    await submit(page, "History between two users", { User: alice, Peer: bob }, "hello from the console");
    await shot(page, "5-messages");
    bobClient.close();

    await page.getByRole("link", { name: "Groups", exact: true }).click();
    await page.getByText("No groups yet.").waitFor();
    await shot(page, "6-groups");

    await page.getByRole("link", { name: "Statistics", exact: true }).click();
    await page.locator("section.card.wide").locator(":scope > div > *").first().waitFor();
    await shot(page, "7-statistics");

    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("heading", { level: 1, name: "Sign in" }).waitFor();
    const after = await page.evaluate(async () => (await fetch("/console/api/session")).json());
    expect(after).toMatchObject({ SignedIn: false });
    await context.close();
  });

  it("shows an app's operator that app only", async () => {
    const context = await browser.newContext({ viewport: { width: 420, height: 800 } });
    const page = await context.newPage();
    await page.goto(`${server.base}/console/`);
    await fillAndSend(page, "App operator", { SDKAppID: String(created.sdkAppId), "Secret key": created.secretKey });
    await page.getByRole("heading", { level: 1, name: `App · ${created.sdkAppId}` }).waitFor();
    expect(await page.getByRole("link", { name: "Apps", exact: true }).count()).toBe(0);
    await shot(page, "8-app-operator");

    await page.goto(`${server.base}/console/#/app/${defaultAppId}/users`);
    await page.getByText(`this session belongs to app ${created.sdkAppId}`).waitFor();
    // The server refuses it too, whatever the page does.
    const direct = await page.evaluate(async (id) => {
      const session = (await (await fetch("/console/api/session")).json()) as { CsrfToken: string };
      const response = await fetch(`/console/api/im_open_login_svc/account_import?sdkappid=${id}`, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": session.CsrfToken },
        body: JSON.stringify({ UserID: "intruder" }),
      });
      return { status: response.status, body: await response.json() };
    }, defaultAppId);
    expect(direct).toMatchObject({ status: 403, body: { ErrorCode: 60010 } });
    const listing = await page.evaluate(async () => {
      const session = (await (await fetch("/console/api/session")).json()) as { CsrfToken: string };
      const response = await fetch("/console/api/edgeim_console_svc/list_apps", { method: "POST", headers: { "Content-Type": "application/json", "X-CSRF-Token": session.CsrfToken }, body: "{}" });
      return response.status;
    });
    expect(listing).toBe(403);
    await shot(page, "9-not-yours");
    await context.close();
  });
});
