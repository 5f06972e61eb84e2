// Public API of the pushgate package.
export { startPushgate } from "./server.ts";
export type { Pushgate, StartOptions } from "./server.ts";
export type { Config, AuthMode, LogLevel } from "./config/types.ts";
export { parseConfig, defaultConfig, helpText } from "./config/parse.ts";
export { OPTIONS } from "./config/spec.ts";
export type { OptionSpec } from "./config/spec.ts";
export { Hub } from "./core/hub.ts";
export { CloseCode, ErrorCodes } from "./core/errors.ts";
export type { ErrorCode } from "./core/errors.ts";
export { nodeOfClientId } from "./core/client-id.ts";
export type { Authenticator, Identity } from "./auth/types.ts";
export { uidAuthenticator } from "./auth/uid-auth.ts";
export { validateUid, validateGroup } from "./protocol/names.ts";
export { LOGIN_REPLY_PREFIX } from "./protocol/seed.ts";
export { createLogger } from "./ops/log.ts";
export type { Logger } from "./ops/log.ts";
