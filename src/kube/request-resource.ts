// The resource a Kubernetes API request path names: "deployments", "apps/status", "namespaces".

/** "apps/status", "deployments", ... from a request path such as /apis/apps/v1/namespaces/x/deployments/y. */
export function resourceOfPath(path: string): string {
  const parts = path.split("?")[0]!.split("/").filter(Boolean);
  const nsAt = parts.indexOf("namespaces");
  const rest = nsAt >= 0 && parts.length > nsAt + 2 ? parts.slice(nsAt + 2) : parts.slice(parts[0] === "api" ? 2 : 3);
  return rest.length > 2 ? `${rest[0]}/${rest[2]}` : (rest[0] ?? "?");
}
