// A race against a timer that is cleared afterwards (a pending Bun.sleep would keep the process
// alive until it fires).

/** Resolves true when `p` settles within ms, false otherwise. */
export async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: Timer | undefined;
  const expired = new Promise<false>((resolve) => { timer = setTimeout(() => resolve(false), ms); });
  try {
    return await Promise.race([p.then(() => true, () => true), expired]);
  } finally {
    clearTimeout(timer);
  }
}
