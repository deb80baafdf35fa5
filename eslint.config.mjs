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
);
