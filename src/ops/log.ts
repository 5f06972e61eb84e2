// One JSON line per lifecycle event or error. Nothing is logged per message at "info".
import type { LogLevel } from "../config/types.ts";

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(event: string, fields?: LogFields): void;
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
}

export function createLogger(level: LogLevel, write: (line: string) => void = defaultWrite): Logger {
  const min = RANK[level];
  const emit = (lvl: Exclude<LogLevel, "silent">, event: string, fields?: LogFields) => {
    if (RANK[lvl] < min) return;
    write(JSON.stringify({ ts: new Date().toISOString(), level: lvl, event, ...fields }) + "\n");
  };
  return {
    debug: (e, f) => emit("debug", e, f),
    info: (e, f) => emit("info", e, f),
    warn: (e, f) => emit("warn", e, f),
    error: (e, f) => emit("error", e, f),
  };
}

function defaultWrite(line: string): void {
  process.stdout.write(line);
}
