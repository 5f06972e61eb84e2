// Checks every inbound frame passes before a wire format (seed.ts, v1.ts) sees it: text only,
// within the rate limit.
import type { Conn } from "../core/conn-data.ts";
import { CloseCode } from "../core/errors.ts";
import { closeWithError, sendError } from "./error-frames.ts";
import { frameCost, takeToken } from "./rate-limit.ts";
import { peekFrameId } from "./v1-frames.ts";

/** True when the wire format should handle `message` (a string); otherwise it was dealt with. */
export function admit(ws: Conn, message: string | Buffer): message is string {
  const d = ws.data;
  const hub = d.hub;
  const cfg = hub.config;
  hub.metrics.framesIn.inc();
  if (typeof message !== "string") {
    closeWithError(ws, CloseCode.UNSUPPORTED_DATA, "E_BINARY_UNSUPPORTED", "this protocol takes text frames only");
    return false;
  }
  if (cfg.rateLimit > 0) {
    if (!takeToken(d, cfg.rateLimit, cfg.rateBurst, performance.now(), frameCost(message.length, cfg.rateFrameBytes, cfg.rateBurst))) {
      onRateLimited(ws, message);
      return false;
    }
    if (d.rateLimited) d.rateLimited = false;
  }
  return true;
}

/** Characters of a dropped frame searched for its top-level id. */
const ID_HEAD = 256;

function onRateLimited(ws: Conn, message: string): void {
  const d = ws.data;
  const hub = d.hub;
  d.rateDrops++;
  hub.metrics.drops.incL(["rate_limited"]);
  if (d.rateDrops >= hub.config.rateLimitCloseAfter) {
    closeWithError(ws, CloseCode.POLICY_VIOLATION, "E_RATE_LIMITED", "too many frames over the rate limit");
    return;
  }
  // A pushgate.v1 frame with an id is answered for that id (a `send` must always get its answer).
  // The id is read from the frame's head only (no parse; the SDK writes it first), so a dropped
  // 64 KiB frame costs no full scan. Others get one error frame per episode: answering every
  // dropped frame would amplify a flood. --rate-limit-close-after bounds both.
  const id = d.v1 ? peekFrameId(message.length > ID_HEAD ? message.slice(0, ID_HEAD) : message) : undefined;
  if (id !== undefined || !d.rateLimited) {
    d.rateLimited = true;
    sendError(ws, "E_RATE_LIMITED", `over ${hub.config.rateLimit} frames/s; frames are dropped`, id);
  }
}
