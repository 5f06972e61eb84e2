// A value built once, on first use, per owner (a node's SDK bundle, its /admin assets): callers
// while it builds share the one build; a failed build (null) is forgotten, so the next use
// builds again.
export class LazyBuild<T> {
  private pending: Promise<T | null> | null = null;

  /** `build` answers null on failure (after logging it); a throw counts as null too. */
  constructor(private readonly build: () => Promise<T | null>) {}

  async get(): Promise<T | null> {
    this.pending ??= Promise.resolve().then(this.build).catch(() => null);
    const value = await this.pending;
    if (value === null) this.pending = null;
    return value;
  }
}
