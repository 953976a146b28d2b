// Environment an app gets from a bound ServiceInstance: the class's bindEnv templates filled
// with the instance's credentials.
import type { ServiceClass } from "../../model/kinds.ts";

export type Credentials = Record<string, string>;

/** Expands $(HOST), $(PORT), $(USERNAME), $(PASSWORD), $(INSTANCE) in the class's bindEnv. */
export function bindingEnv(cls: ServiceClass, creds: Credentials): Record<string, string> {
  const vars = cls.spec.bindEnv?.length
    ? cls.spec.bindEnv
    : [
        { name: "SERVICE_HOST", value: "$(HOST)" },
        { name: "SERVICE_PORT", value: "$(PORT)" },
        { name: "SERVICE_USERNAME", value: "$(USERNAME)" },
        { name: "SERVICE_PASSWORD", value: "$(PASSWORD)" },
      ];
  return Object.fromEntries(vars.map((v) => [v.name, v.value.replace(/\$\(([A-Z_]+)\)/g, (m: string, k: string) => creds[k] ?? m)]));
}
