import { startWorldProcess } from "./world-process.js";
import { ORG, oidcDefinition, ROLE_DEPLOY } from "./world.js";
import { verifyEnvironments } from "../verify/batch.js";
void (async () => {
  const fleet = Array.from({ length: 200 }, (_, i) => ({ project: "fleet", name: `env-${i}`, yaml: oidcDefinition(ROLE_DEPLOY) }));
  const w = await startWorldProcess({ latencyMs: 20, scenarioEnvironments: false, extraEnvironments: fleet, extraDeploySubjects: [`pulumi:environments:org:${ORG}:env:fleet/*`] });
  await verifyEnvironments({ refs: [`${ORG}/fleet/env-0`] }, { env: w.env });
  const cpu = process.cpuUsage(); const t0 = performance.now();
  const b = await verifyEnvironments({ all: ORG }, { env: w.env, concurrency: 8 });
  const d = process.cpuUsage(cpu);
  console.log(b.summary, "wall", (performance.now() - t0).toFixed(0), "client cpu ms", ((d.user + d.system) / 1000).toFixed(0));
  await w.close();
})();
