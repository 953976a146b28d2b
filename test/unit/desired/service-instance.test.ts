import { expect } from "chai";
import type { ServiceClass, ServiceInstance } from "../../../src/model/kinds.ts";
import {
  backupStatus,
  credentialsDecision,
  desiredBackupCronJob,
  desiredInstanceHpa,
  idleDecision,
  idleScalingApplies,
  instanceReplicas,
  isIdle,
  replicaRange,
  servicePhase,
} from "../../../src/reconcilers/desired/service-instance.ts";
import { desiredInstanceObjects } from "../../../src/reconcilers/service-instance.ts";

const si = (spec: Partial<ServiceInstance["spec"]> = {}, status?: ServiceInstance["status"]): ServiceInstance => ({
  metadata: { name: "db", namespace: "pool-a", uid: "11111111-2222-4333-8444-555555555555", generation: 1 },
  spec: { serviceClass: "pg", owner: "team-a", ...spec },
  ...(status ? { status } : {}),
});
const cls = (backup?: ServiceClass["spec"]["backup"]): ServiceClass => ({
  metadata: { name: "pg" },
  spec: { image: "postgres:16", port: 5432, plans: [{ name: "production", memory: "256Mi" }], ...(backup ? { backup } : {}) },
});
const base = { HOST: "db.pool-a.svc", PORT: "5432", USERNAME: "db", INSTANCE: "db" };

describe("service instance lifecycle (pure)", () => {
  it("runs numReplicas pods (at least one), none when stopped", () => {
    expect(instanceReplicas(si())).to.equal(1);
    expect(instanceReplicas(si({ scaling: { numReplicas: 3 } }))).to.equal(3);
    expect(instanceReplicas(si({ state: "Stopped", scaling: { numReplicas: 3 } }))).to.equal(0);
    const [workload] = desiredInstanceObjects(si({ scaling: { numReplicas: 2 } }), cls(), { ...base, PASSWORD: "x" });
    expect((workload as unknown as { spec: { replicas: number } }).spec.replicas).to.equal(2);
  });

  it("turns memory bounds of production services into an HPA range in the same proportion", () => {
    expect(replicaRange(si({ tier: "production", scaling: { minTotalMemoryGb: 24, maxTotalMemoryGb: 96, numReplicas: 2 } }))).to.deep.equal({ min: 2, max: 8 });
    expect(replicaRange(si({ tier: "production", scaling: { minTotalMemoryGb: 48, maxTotalMemoryGb: 48 } }))).to.equal(undefined);
    expect(replicaRange(si({ tier: "development", scaling: { minTotalMemoryGb: 24, maxTotalMemoryGb: 48 } }))).to.equal(undefined);
    expect(replicaRange(si({ state: "Stopped", scaling: { minTotalMemoryGb: 24, maxTotalMemoryGb: 48 } }))).to.equal(undefined);
    const hpa = desiredInstanceHpa(si({ scaling: { minTotalMemoryGb: 24, maxTotalMemoryGb: 48 } }), "StatefulSet") as unknown as { spec: { scaleTargetRef: { kind: string }; minReplicas: number; maxReplicas: number } };
    expect(hpa.spec).to.include({ minReplicas: 1, maxReplicas: 2 });
    expect(hpa.spec.scaleTargetRef.kind).to.equal("StatefulSet");
  });

  it("reports provisioning, running, stopping, stopped, starting and terminating", () => {
    expect(servicePhase(si(), undefined)).to.equal("provisioning");
    expect(servicePhase(si(), { replicas: 1, readyReplicas: 0 })).to.equal("provisioning");
    expect(servicePhase(si(), { replicas: 1, readyReplicas: 1 })).to.equal("running");
    expect(servicePhase(si({ state: "Stopped" }, { state: "running" }), { replicas: 1, readyReplicas: 1 })).to.equal("stopping");
    expect(servicePhase(si({ state: "Stopped" }, { state: "stopping" }), { replicas: 0, readyReplicas: 0 })).to.equal("stopped");
    expect(servicePhase(si({ state: "Running" }, { state: "stopped" }), { replicas: 1, readyReplicas: 0 })).to.equal("starting");
    expect(servicePhase(si({}, { state: "running" }), { replicas: 1, readyReplicas: 0 })).to.equal("running");
    expect(servicePhase({ ...si(), metadata: { ...si().metadata, deletionTimestamp: "2026-01-01T00:00:00Z" } }, undefined)).to.equal("terminating");
  });

  it("keeps credentials while their stamp matches; generates on rotation", () => {
    const gen = () => "generated";
    expect(credentialsDecision(si({ passwordRotation: "r1" }), base, { stamp: "r1", data: {} }, undefined, gen)).to.deep.equal({ action: "keep" });
    expect(credentialsDecision(si({ passwordRotation: "r2" }), base, { stamp: "r1", data: {} }, undefined, gen)).to.deep.equal({ action: "write", stamp: "r2", creds: { ...base, PASSWORD: "generated" } });
    expect(credentialsDecision(si(), base, undefined, undefined, gen)).to.deep.equal({ action: "write", stamp: "", creds: { ...base, PASSWORD: "generated" } });
  });

  it("takes a requested password or its hashes as given, and waits for the request's Secret", () => {
    const gen = () => "never";
    const s = si({ passwordRequest: "q1" });
    expect(credentialsDecision(s, base, { stamp: "", data: {} }, undefined, gen).action).to.equal("wait");
    expect(credentialsDecision(s, base, { stamp: "", data: {} }, { id: "q0", data: { PASSWORD: "old" } }, gen).action).to.equal("wait");
    expect(credentialsDecision(s, base, undefined, { id: "q1", data: { PASSWORD: "pw", PASSWORD_SHA256_BASE64: "h" } }, gen)).to.deep.equal({
      action: "write",
      stamp: "request:q1",
      creds: { ...base, PASSWORD: "pw", PASSWORD_SHA256_BASE64: "h" },
    });
    const hashed = credentialsDecision(s, base, undefined, { id: "q1", data: { PASSWORD_SHA256_BASE64: "h", PASSWORD_DOUBLE_SHA1_HEX: "d" } }, gen);
    expect(hashed).to.deep.equal({ action: "write", stamp: "request:q1", creds: { ...base, PASSWORD: "", PASSWORD_SHA256_BASE64: "h", PASSWORD_DOUBLE_SHA1_HEX: "d" } });
    expect(credentialsDecision(s, base, { stamp: "request:q1", data: {} }, undefined, gen)).to.deep.equal({ action: "keep" });
  });

  it("backs up with a CronJob only when the class says how, suspended while stopped", () => {
    expect(desiredBackupCronJob(si(), cls(), "db-credentials")).to.equal(undefined);
    const b = { image: "postgres:16", command: ["sh", "-c", "pg_dump > $BACKUP_DIR/$BACKUP_ID.sql"], claimName: "backups" };
    const cj = desiredBackupCronJob(si(), cls(b), "db-credentials") as unknown as { metadata: { labels: Record<string, string> }; spec: { schedule: string; suspend: boolean; jobTemplate: { metadata: { labels: Record<string, string> } } } };
    expect(cj.spec.schedule).to.equal("0 3 * * *");
    expect(cj.spec.suspend).to.equal(false);
    expect(cj.spec.jobTemplate.metadata.labels).to.include({ "berth.dev/backup": "true", "berth.dev/service-instance": "db" });
    expect((desiredBackupCronJob(si({ state: "Stopped" }), cls(b), "c") as unknown as { spec: { suspend: boolean } }).spec.suspend).to.equal(true);
  });

  it("words a Job's outcome as done, error or in_progress", () => {
    expect(backupStatus({ status: { succeeded: 1 } })).to.equal("done");
    expect(backupStatus({ status: { conditions: [{ type: "Failed", status: "True" }] } })).to.equal("error");
    expect(backupStatus({ status: {} })).to.equal("in_progress");
  });

  it("passes the backup to restore to the workload", () => {
    const [workload] = desiredInstanceObjects(si({ restoreFrom: "b-1" }), cls(), { ...base, PASSWORD: "x" });
    const env = (workload as unknown as { spec: { template: { spec: { containers: { env: { name: string; value?: string }[] }[] } } } }).spec.template.spec.containers[0]!.env;
    expect(env).to.deep.include({ name: "RESTORE_FROM_BACKUP", value: "b-1" });
  });

  it("idle scaling: an instance unused for its timeout goes idle (zero replicas) until a new awake request", () => {
    const lite: ServiceClass = { ...cls(), spec: { ...cls().spec, activityPath: "/berth/activity" } };
    expect(idleScalingApplies(si(), lite)).to.equal(true); // the cloud API's default: idle scaling on
    expect(idleScalingApplies(si({ scaling: { idleScaling: false } }), lite)).to.equal(false);
    expect(idleScalingApplies(si(), cls())).to.equal(false); // no signal from the class: never idles
    const minute = 60_000;
    expect(idleDecision(si({ scaling: { idleTimeoutMinutes: 5 } }), 299, minute)).to.deep.equal({ recheckMs: 1000 });
    expect(idleDecision(si({ scaling: { idleTimeoutMinutes: 5 } }), 300, minute)).to.deep.equal({ idle: true });
    expect(idleDecision(si(), 60, minute)).to.deep.equal({ recheckMs: 14 * minute }); // default 15 minutes
    expect(idleDecision(si({ scaling: { idleTimeoutMinutes: 5 } }), 5, 1000)).to.deep.equal({ idle: true }); // the test knob: 1 s minutes
    const idle = si({ awakeRequest: "a1" }, { state: "idle", idle: { since: "2026-12-03T18:00:00Z", awakeRequest: "a1" } });
    expect(isIdle(idle)).to.equal(true);
    expect(instanceReplicas(idle)).to.equal(0);
    expect(servicePhase(idle, { replicas: 0, readyReplicas: 0 })).to.equal("idle");
    const awoken = { ...idle, spec: { ...idle.spec, awakeRequest: "a2" } };
    expect(isIdle(awoken)).to.equal(false);
    expect(instanceReplicas(awoken)).to.equal(1);
    expect(servicePhase(awoken, { replicas: 1, readyReplicas: 0 })).to.equal("starting");
    // A stop ends idleness: the service is stopped, and a start runs it.
    expect(isIdle({ ...idle, spec: { ...idle.spec, state: "Stopped" } })).to.equal(false);
  });

  it("keeps an instance's data on its node and runs it (and its backups) where its pool places pods", () => {
    const lite: ServiceClass = {
      metadata: { name: "lite" },
      spec: {
        image: "python:3.11",
        port: 8123,
        plans: [{ name: "production" }],
        command: ["python3", "-c", "serve('$(PASSWORD)')"],
        storage: { mountPath: "/var/lib/db", hostPath: "/var/lib/berth/services/" },
        backup: { image: "busybox", command: ["sh", "-c", "cp -a $DATA_DIR/. $BACKUP_DIR/$BACKUP_ID"], hostPath: "/var/lib/berth/backups", restoreCommand: ["sh", "-c", "restore"] },
      },
    };
    const placement = { nodeSelector: { "berth.dev/node-group": "real" }, tolerations: [{ key: "berth.dev/real-node", operator: "Exists", effect: "NoSchedule" }] };
    type PodSpec = { nodeSelector?: object; tolerations?: object[]; initContainers?: { name: string; env: object[]; volumeMounts: object[] }[]; containers: { command?: string[]; env: { name: string; value?: string }[]; volumeMounts?: object[] }[]; volumes?: { name: string; hostPath?: { path: string } }[] };
    const [workload] = desiredInstanceObjects(si(), lite, { ...base, PASSWORD: "x" }, placement) as unknown as { spec: { strategy?: { type: string }; template: { spec: PodSpec } } }[];
    const pod = workload!.spec.template.spec;
    expect(pod.nodeSelector).to.deep.equal(placement.nodeSelector);
    expect(pod.tolerations).to.deep.equal(placement.tolerations);
    // Credentials reach the command only through the environment ($(VAR), expanded by the kubelet).
    expect(pod.containers[0]!.command).to.deep.equal(["python3", "-c", "serve('$(BERTH_CREDENTIAL_PASSWORD)')"]);
    expect(pod.containers[0]!.env).to.deep.include({ name: "DATA_DIR", value: "/var/lib/db" });
    expect(pod.volumes).to.deep.equal([{ name: "data", hostPath: { path: "/var/lib/berth/services/pool-a/11111111-2222-4333-8444-555555555555", type: "DirectoryOrCreate" } }]);
    expect(workload!.spec.strategy).to.deep.equal({ type: "Recreate" }); // one server over the directory at a time
    expect(pod.initContainers).to.equal(undefined);

    const cj = desiredBackupCronJob(si(), lite, "db-credentials", placement) as unknown as { spec: { jobTemplate: { spec: { template: { spec: PodSpec } } } } };
    const job = cj.spec.jobTemplate.spec.template.spec;
    expect(job.nodeSelector).to.deep.equal(placement.nodeSelector);
    expect(job.volumes).to.deep.equal([
      { name: "backup", hostPath: { path: "/var/lib/berth/backups/pool-a", type: "DirectoryOrCreate" } },
      { name: "data", hostPath: { path: "/var/lib/berth/services/pool-a/11111111-2222-4333-8444-555555555555", type: "DirectoryOrCreate" } },
    ]);
    expect(job.containers[0]!.volumeMounts).to.deep.equal([{ name: "backup", mountPath: "/backup" }, { name: "data", mountPath: "/var/lib/db", readOnly: true }]);
    expect(job.containers[0]!.env).to.deep.include({ name: "DATA_DIR", value: "/var/lib/db" });

    // Created from a backup: the class's restore command runs first, over the new data directory.
    const [restored] = desiredInstanceObjects(si({ restoreFrom: "b-1" }), lite, { ...base, PASSWORD: "x" }, placement) as unknown as { spec: { template: { spec: PodSpec } } }[];
    const init = restored!.spec.template.spec.initContainers;
    expect(init).to.have.length(1);
    expect(init![0]!.env).to.deep.equal([{ name: "RESTORE_FROM_BACKUP", value: "b-1" }, { name: "BACKUP_DIR", value: "/backup" }, { name: "DATA_DIR", value: "/var/lib/db" }]);
    expect(init![0]!.volumeMounts).to.deep.equal([{ name: "data", mountPath: "/var/lib/db" }, { name: "backup", mountPath: "/backup", readOnly: true }]);
    expect(restored!.spec.template.spec.volumes?.map((v) => v.name)).to.deep.equal(["data", "backup"]);
  });
});
