// Gateway:: methods that act on a business worker's current connection (Context::$client_id):
// over HTTP there is none, so they answer E_NOT_APPLICABLE naming the method that takes a clientId.
import { err } from "../../core/result.ts";
import type { MethodSpec } from "./types.ts";

export function notApplicable(name: string, instead: string): MethodSpec {
  return {
    run: () => err("E_NOT_APPLICABLE", `${name}: there is no current client over HTTP (it exists only inside a GatewayWorker business worker); call ${instead} with the clientId`),
    route: { via: "engine" },
    mutating: false,
  };
}
