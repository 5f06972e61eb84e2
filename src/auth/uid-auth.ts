// Seed behaviour: the first frame is the uid. For demos and trusted networks only.
import { ok } from "../core/result.ts";
import { validateUid } from "../protocol/names.ts";
import type { Authenticator } from "./types.ts";

export const uidAuthenticator: Authenticator = {
  mode: "uid",
  insecure: true,
  fromFirstFrame(frame) {
    const uid = validateUid(frame);
    return uid.ok ? ok({ uid: uid.value }) : uid;
  },
};
