// Per-app request activity seen by this router replica: the signal idle detection (scale to
// zero) reads, kept in memory because it is a rate, not state: after a restart an app simply
// looks busy until its idle timeout passes again.

export interface AppActivitySnapshot {
  /** Requests in flight now. */
  inFlight: number;
  /** When the last request for the app arrived (ms since epoch), 0 if none yet. */
  lastRequestAt: number;
  /** Requests seen since this process started. */
  total: number;
}

export class AppActivity {
  private readonly apps = new Map<string, AppActivitySnapshot>();

  begin(appKey: string, now = Date.now()): void {
    const a = this.apps.get(appKey);
    if (a) {
      a.inFlight++;
      a.total++;
      a.lastRequestAt = now;
    } else this.apps.set(appKey, { inFlight: 1, lastRequestAt: now, total: 1 });
  }

  end(appKey: string): void {
    const a = this.apps.get(appKey);
    if (a && a.inFlight > 0) a.inFlight--;
  }

  get(appKey: string): AppActivitySnapshot {
    return { ...(this.apps.get(appKey) ?? { inFlight: 0, lastRequestAt: 0, total: 0 }) };
  }

  /** Apps idle for at least idleMs at `now`, with nothing in flight. */
  idleSince(idleMs: number, now = Date.now()): string[] {
    return [...this.apps].filter(([, a]) => a.inFlight === 0 && now - a.lastRequestAt >= idleMs).map(([k]) => k);
  }
}
