// Host header -> App. Every App answers on `<name>.<apps domain>` and on each of its domains
// (cnames, `*.example.com` wildcards included). When two Apps claim one host, the claims are
// ordered oldest first (creation time, then namespace/name): the routing table sends the host
// to the oldest claimant that has ready endpoints, so a newcomer cannot take a live host over.

/** The host of a Host header: lower case, without port or trailing dot; undefined if absent. */
export function normalizeHost(header: string | undefined): string | undefined {
  if (!header) return undefined;
  let host = header.trim().toLowerCase();
  if (host.startsWith("[")) {
    const end = host.indexOf("]");
    host = end < 0 ? host : host.slice(0, end + 1);
  } else {
    const colon = host.indexOf(":");
    if (colon >= 0) host = host.slice(0, colon);
  }
  while (host.endsWith(".")) host = host.slice(0, -1);
  return host || undefined;
}

/** The hosts an App answers on. */
export function appHosts(name: string, domains: readonly string[] | undefined, appsDomain: string): string[] {
  const hosts = [`${name}.${appsDomain}`.toLowerCase(), ...(domains ?? []).map((d) => normalizeHost(d) ?? "")].filter(Boolean);
  return [...new Set(hosts)];
}

/**
 * The in-cluster names of an app's Service, as a client of its ClusterIP writes them in Host:
 * requests that reach the router through the Service while the app sleeps (sleeping-slice.ts).
 */
export function serviceHosts(service: string, namespace: string, clusterDomain = "cluster.local"): string[] {
  const svc = `${service}.${namespace}`.toLowerCase();
  return [svc, `${svc}.svc`, `${svc}.svc.${clusterDomain}`];
}

interface Claim {
  key: string;
  /** Lower ranks win a contested host. */
  rank: string;
}

/** Hosts to app keys ("namespace/name"), updated incrementally as Apps change. */
export class HostIndex {
  private readonly claims = new Map<string, Claim[]>();
  private readonly hostsOf = new Map<string, string[]>();

  /** Sets the hosts of one app; rank orders contested hosts (e.g. creationTimestamp + key). */
  set(key: string, hosts: readonly string[], rank: string): void {
    this.delete(key);
    this.hostsOf.set(key, [...hosts]);
    for (const host of hosts) {
      const list = this.claims.get(host) ?? [];
      list.push({ key, rank });
      list.sort((a, b) => (a.rank < b.rank ? -1 : a.rank > b.rank ? 1 : 0));
      this.claims.set(host, list);
    }
  }

  delete(key: string): void {
    for (const host of this.hostsOf.get(key) ?? []) {
      const rest = (this.claims.get(host) ?? []).filter((c) => c.key !== key);
      if (rest.length) this.claims.set(host, rest);
      else this.claims.delete(host);
    }
    this.hostsOf.delete(key);
  }

  /** The app key serving host when it is not contested: see candidates(). */
  lookup(host: string): string | undefined {
    return this.candidates(host)[0];
  }

  /** The apps claiming host, oldest first: exact claims, else `*.` wildcard ones a level up. */
  candidates(host: string): string[] {
    const exact = this.claims.get(host);
    if (exact?.length) return exact.map((c) => c.key);
    const dot = host.indexOf(".");
    return dot > 0 ? (this.claims.get(`*${host.slice(dot)}`) ?? []).map((c) => c.key) : [];
  }

  /** Hosts claimed by more than one app: the losers do not receive their traffic. */
  contested(): { host: string; winner: string; losers: string[] }[] {
    return [...this.claims]
      .filter(([, c]) => c.length > 1)
      .map(([host, c]) => ({ host, winner: c[0]?.key ?? "", losers: c.slice(1).map((x) => x.key) }));
  }
}
