#!/usr/bin/env node
// The `oidc-guard` command. A committed shim, so that npm can link the bin before the build has run;
// the compiled CLI is built by `npm install` / `npm ci` (root `prepare`) or `npm run build`.
"use strict";
let cli;
try {
    cli = require("./bin/cli.js");
} catch (e) {
    if (e && e.code === "MODULE_NOT_FOUND") {
        process.stderr.write("oidc-guard: the CLI is not built yet: run `npm run build` in the repository\n");
        process.exit(2);
    }
    throw e;
}
cli.main();
