// Seed behaviour: the credential is the uid itself. For demos and trusted networks only.
import { ok } from "../core/result.ts";
import { validateUid } from "../core/names.ts";
import type { Authenticator } from "./types.ts";

export const uidAuthenticator: Authenticator = {
  mode: "uid",
  credential: "uid",
  insecure: true,
  validated: true, // the credential went through validateUid
  authenticate(credential) {
    const uid = validateUid(credential);
    return uid.ok ? ok({ uid: uid.value }) : uid;
  },
};
