/**
 * Regenerates fixtures/stacks/*.json and fixtures/preview/*.json with the real Pulumi CLI: runs the programs in
 * fixtures/programs/cli-fixtures (stand-in AWS provider, local file backend, no network) and stores their
 * `pulumi stack export` / `pulumi preview --json` output. Usage (after `npm run build`):
 *
 *   node --import tsx scripts/regenerate-cli-fixtures.ts
 *
 * The CLI comes from scripts/build-pulumi-cli.sh or $OIDC_GUARD_PULUMI_BIN. Exit 1 when a command fails.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { PulumiWorld, REPO, describe, locateCli } from "./e2e/pulumi-cli.js";

const PROGRAMS = join(REPO, "fixtures", "programs", "cli-fixtures");

async function main(): Promise<void> {
    const location = locateCli();
    if (!("bin" in location)) throw new Error(location.skip);
    const world = await PulumiWorld.create(location.bin);
    try {
        const write = (file: string, text: string) => {
            writeFileSync(join(REPO, file), text.endsWith("\n") ? text : `${text}\n`);
            console.log(`wrote ${file}`);
        };
        for (const [program, stackName, file, showSecrets] of [
            ["oidc-roles-prod", "prod", "fixtures/stacks/oidc-roles-prod.stack.json", false],
            ["oidc-roles-dev", "dev", "fixtures/stacks/oidc-roles-dev.show-secrets.stack.json", true],
        ] as const) {
            const stack = await world.stack(join(PROGRAMS, program), {}, stackName);
            const up = await stack.up();
            if (up.code !== 0) throw new Error(describe(up));
            write(file, (await stack.export(showSecrets)).text);
        }
        const bootstrap = await world.stack(join(PROGRAMS, "oidc-bootstrap"), {}, "dev");
        const preview = await bootstrap.cli(["preview", "--json"]);
        if (preview.code !== 0) throw new Error(describe(preview));
        write("fixtures/preview/new-provider.preview.json", preview.stdout);
    } finally {
        world.dispose();
    }
}

main().catch((e: unknown) => {
    console.error(`regenerate-cli-fixtures: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
});
