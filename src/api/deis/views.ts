// How Deis v1 shows Berth's objects.
import type { KubeObject } from "../../kube/resource.ts";
import type { App, Release } from "../../model/kinds.ts";
import { Labels } from "../../model/kinds.ts";

/** Deis' timestamps: "2014-01-01T00:00:00UTC". */
export const deisTime = (t: string | undefined) => (t ?? "1970-01-01T00:00:00Z").replace(/Z$/, "UTC");

/** One page of items; with view, only the page's items are rendered (lists of thousands of apps). */
export function page<T, V = T>(items: T[], query: Record<string, string | undefined>, url: string, view?: (item: T) => V) {
  const size = Math.max(1, Math.min(1000, Number(query.page_size ?? 100) || 100));
  const n = Math.max(1, Number(query.page ?? 1) || 1);
  const start = (n - 1) * size;
  const link = (p: number) => `${url.split("?")[0]}?page=${p}&page_size=${size}`;
  return {
    count: items.length,
    next: start + size < items.length ? link(n + 1) : null,
    previous: n > 1 ? link(n - 1) : null,
    results: view ? items.slice(start, start + size).map(view) : items.slice(start, start + size),
  };
}

export const ownerOf = (app: App) => app.metadata.annotations?.["berth.dev/deis-owner"] ?? app.spec.owner ?? "";

export function appView(app: App) {
  return {
    created: deisTime(app.metadata.creationTimestamp),
    id: app.metadata.name,
    owner: ownerOf(app),
    structure: Object.fromEntries(app.spec.processes.map((p) => [p.name, p.replicas ?? 1])),
    updated: deisTime(app.metadata.creationTimestamp),
    url: app.spec.domains?.[0] ?? app.status?.urls?.[0]?.replace(/^https?:\/\//, "") ?? "",
    uuid: app.metadata.uid,
  };
}

export function releaseView(app: App, r: Release) {
  return {
    app: app.metadata.name,
    build: r.spec.image ? r.metadata.uid : null,
    config: r.spec.contentHash.slice(0, 8) + "-" + r.spec.contentHash.slice(8, 12),
    created: deisTime(r.metadata.creationTimestamp),
    owner: r.spec.author ?? ownerOf(app),
    summary: r.spec.summary ?? "",
    updated: deisTime(r.metadata.creationTimestamp),
    uuid: r.metadata.uid,
    version: r.spec.version,
  };
}

type Pod = KubeObject & { status?: { phase?: string; conditions?: { type: string; status: string }[] } };

export function containerViews(app: App, pods: Pod[]) {
  const byType = new Map<string, Pod[]>();
  for (const p of [...pods].sort((a, b) => String(a.metadata.creationTimestamp).localeCompare(String(b.metadata.creationTimestamp)))) {
    const t = p.metadata.labels?.[Labels.process] ?? "";
    byType.set(t, [...(byType.get(t) ?? []), p]);
  }
  return [...byType].flatMap(([type, list]) =>
    list.map((p, i) => {
      const ready = p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True");
      const state = p.metadata.deletionTimestamp ? "destroyed" : p.status?.phase === "Running" ? (ready ? "up" : "starting") : p.status?.phase === "Failed" ? "crashed" : "initialized";
      return {
        owner: ownerOf(app),
        app: app.metadata.name,
        release: p.metadata.labels?.[Labels.release] ?? "",
        created: deisTime(p.metadata.creationTimestamp),
        updated: deisTime(p.metadata.creationTimestamp),
        uuid: p.metadata.uid,
        type,
        num: i + 1,
        state,
      };
    }),
  );
}
