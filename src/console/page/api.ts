/** The console page's calls to /console/api: the session, and commands with the CSRF token. */

export interface Answer {
  ActionStatus: "OK" | "FAIL";
  ErrorCode: number;
  ErrorInfo: string;
  [field: string]: unknown;
}

export interface Session {
  SignedIn: boolean;
  ConsoleKeyConfigured: boolean;
  Role?: "Deployment" | "App";
  SdkAppId?: number;
  CsrfToken?: string;
  ErrorInfo?: string;
}

let csrf = "";
/** Called when the server says the session is gone (expired, signed out elsewhere). */
let onSignedOut: (reason: string) => void = () => {};

export function whenSignedOut(handler: (reason: string) => void): void {
  onSignedOut = handler;
}

export async function loadSession(): Promise<Session> {
  const session = (await (await fetch("/console/api/session", { credentials: "same-origin" })).json()) as Session;
  csrf = session.CsrfToken ?? "";
  return session;
}

async function post(path: string, body: unknown): Promise<{ status: number; answer: Answer }> {
  const response = await fetch(path, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
    body: JSON.stringify(body),
  });
  let answer: Answer;
  try {
    answer = (await response.json()) as Answer;
  } catch {
    answer = { ActionStatus: "FAIL", ErrorCode: response.status, ErrorInfo: `the server answered HTTP ${response.status}` };
  }
  return { status: response.status, answer };
}

export async function signIn(body: { ConsoleKey: string } | { SdkAppId: number; SecretKey: string }): Promise<Answer> {
  const { answer } = await post("/console/api/signin", body);
  if (answer.ActionStatus === "OK") csrf = String(answer.CsrfToken ?? "");
  return answer;
}

export async function signOut(): Promise<void> {
  await post("/console/api/signout", {});
  csrf = "";
}

/** Runs a REST command through the console door: for app `sdkAppId`, or for the deployment without one. */
export async function call(command: string, body: unknown, sdkAppId?: number): Promise<Answer> {
  const query = sdkAppId === undefined ? "" : `?sdkappid=${sdkAppId}`;
  const { status, answer } = await post(`/console/api/${command}${query}`, body);
  if (status === 401) onSignedOut(answer.ErrorInfo);
  return answer;
}
