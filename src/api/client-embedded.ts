// The client SDK as built into a single binary: src/build/binary.ts replaces this module at build
// time with the bundle and its declarations, since a binary has no src/client/ to build from.
// Running from source it stays null, and src/api/client-bundle.ts builds on demand instead.

export interface EmbeddedClient {
  /** GET /client.js: the SDK bundled into one ESM file. */
  js: string;
  /** GET /client.d.ts: its declarations (src/client/pushgate-client.d.ts). */
  dts: string;
}

export const embeddedClient: EmbeddedClient | null = null;
