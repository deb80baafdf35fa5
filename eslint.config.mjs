import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
    {
        ignores: [
            "**/bin/**",
            "**/node_modules/**",
            "eslint.config.mjs",
            "verifier/oidc-guard.js",
            "scripts/**/*.mjs",
            "test-artifacts/**",
            "out/**",
            // moto's virtual environment (scripts/ensure-moto.sh) and the bundled code of the cdk.out fixture.
            ".venv-moto/**",
            "fixtures/cdk.out/**/*.js",
            // What `npm run bench` generates (the empty pack it compares with).
            ".bench/**",
        ],
    },
    js.configs.recommended,
    ...tseslint.configs.recommendedTypeChecked,
    {
        languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
        rules: {
            "@typescript-eslint/no-floating-promises": [
                "error",
                {
                    allowForKnownSafeCalls: [
                        { from: "package", package: "node:test", name: ["describe", "it", "test", "suite"] },
                    ],
                },
            ],
            "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
        },
    },
    {
        // An array spread into a call passes each element as an argument on the stack: past about 125,000 elements
        // (roles of one export, keys of one object, values of one condition) V8 throws "Maximum call stack size
        // exceeded". Product code loops instead; tests, test helpers, benchmarks and scripts may spread what they build.
        files: ["policypack/src/**/*.ts", "verifier/src/**/*.ts"],
        ignores: ["**/*.test.ts", "**/testing/**"],
        rules: {
            "no-restricted-syntax": [
                "error",
                { selector: "CallExpression > SpreadElement", message: "Loop instead: an input-sized array spread into a call overflows the stack (about 125,000 elements)." },
                { selector: "NewExpression > SpreadElement", message: "Loop instead: an input-sized array spread into a call overflows the stack (about 125,000 elements)." },
            ],
        },
    },
);
