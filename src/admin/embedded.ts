// The dashboard's script and stylesheet as built into a single binary, which has no src/admin/page/
// to build from: the binary build replaces this module with buildAdminAssets()'s output (as it
// does src/api/client-embedded.ts). Running from source it stays null and assets.ts builds on demand.

export interface EmbeddedAdmin {
  js: string;
  css: string;
}

export const embeddedAdmin: EmbeddedAdmin | null = null;
