/**
 * Libraries only some inputs need, loaded on first use: `check` of a JSON stack export never pays for the YAML
 * parser (CloudFormation YAML templates, ESC definitions) or the JSON Schema validator (result files given to
 * `report`), about 90 ms of start-up between them, nor for the strict JSON scanner that only locates a syntax
 * error or a repeated key (about 6 ms).
 */
import { createRequire } from "node:module";
import type * as Yaml from "yaml";
import type AjvClass from "ajv";
import type * as JsoncParser from "jsonc-parser";
import type addFormatsFn from "ajv-formats";

const load = createRequire(__filename);

let yamlModule: typeof Yaml | undefined;
/** The `yaml` package. */
export function yaml(): typeof Yaml {
    return (yamlModule ??= load("yaml") as typeof Yaml);
}

/** `ajv` and `ajv-formats` (CommonJS modules whose default export is `module.exports.default`). */
export function ajv(): { Ajv: typeof AjvClass; addFormats: typeof addFormatsFn } {
    const a = load("ajv") as { default: typeof AjvClass };
    const f = load("ajv-formats") as { default: typeof addFormatsFn };
    return { Ajv: a.default, addFormats: f.default };
}

let jsoncModule: typeof JsoncParser | undefined;
/** The `jsonc-parser` package: the JSON reader's strict scanner, for text that is not JSON or repeats a key. */
export function jsoncParser(): typeof JsoncParser {
    return (jsoncModule ??= load("jsonc-parser") as typeof JsoncParser);
}
