/** How a REST command is declared: its body schema, its parameter-error code and its handler. */
import type { z } from "zod";
import type { AppView } from "../domain/app.ts";
import type { Env } from "../env.ts";

export interface CommandContext {
  env: Env;
  app: AppView;
  /** The admin identifier that signed the call. */
  caller: string;
  /** The host the request was sent to (this server's, as the caller reaches it). */
  host: string;
  /** The caller's IP address, when the platform says (CF-Connecting-IP): callbacks' ClientIP. */
  clientIp?: string;
  waitUntil(promise: Promise<unknown>): void;
}

export interface Command<S extends z.ZodType = z.ZodType> {
  /** The request body; unknown fields are ignored, as Tencent does. */
  body: S;
  /** The code this service answers a bad field with. */
  paramErrorCode: number;
  /** Codes for particular top-level fields, where Tencent has one (e.g. To_Account → 90003). */
  fieldErrorCodes?: Record<string, number>;
  /** Profile and relationship services answer with an ErrorDisplay field too. */
  errorDisplay?: boolean;
  /** Returns the payload that follows ActionStatus/ErrorInfo/ErrorCode. */
  handle(ctx: CommandContext, body: z.infer<S>): Promise<Record<string, unknown>>;
}

/** Declares a command so that the handler's body type comes from its schema. */
export function command<S extends z.ZodType>(definition: Command<S>): Command {
  return definition as unknown as Command;
}

/** What a deployment-level command (edgeim_console_svc) gets: the deployment, no app. */
export interface DeploymentContext {
  env: Env;
  host: string;
  waitUntil(promise: Promise<unknown>): void;
}

/**
 * A command for the deployment's operator (creating and listing apps), authorised by the
 * console key instead of an app's UserSig.
 */
export interface DeploymentCommand<S extends z.ZodType = z.ZodType> {
  body: S;
  paramErrorCode: number;
  handle(ctx: DeploymentContext, body: z.infer<S>): Promise<Record<string, unknown>>;
}

export function deploymentCommand<S extends z.ZodType>(definition: DeploymentCommand<S>): DeploymentCommand {
  return definition as unknown as DeploymentCommand;
}
