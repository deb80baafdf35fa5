/** Turns the command's path arguments into the list of files to read. */
import { readdirSync, statSync } from "node:fs";
import { isAbsolute, join, relative, resolve, sep } from "node:path";
import { CliError, EXIT } from "../io.js";
import { realPathOf } from "../output.js";
import { errnoMessage } from "./options.js";

/** A file to read: `path` is absolute, `shown` is what targets and messages print. */
export interface InputFile {
    path: string;
    shown: string;
    /** True when the file was named on the command line (not found by walking a directory). */
    explicit: boolean;
    /** The text, when it was read already (standard input). */
    text?: string;
    /**
     * True for a `*.yaml`/`*.yml`/`*.template` file found by walking a directory: it is checked only when it is a
     * CloudFormation template, and left out quietly otherwise (Pulumi.yaml, CI configuration, …).
     */
    onlyIfTemplate?: boolean;
}

/** The name standard input is shown as in targets and messages. */
export const STDIN_NAME = "<stdin>";

/** `x/y.json` below `cwd` is shown relative to it; anything else absolute. Separators are always `/`. */
export function showPath(abs: string, cwd: string): string {
    const rel = relative(cwd, abs);
    const shown = rel !== "" && !rel.startsWith("..") && !isAbsolute(rel) ? rel : abs;
    return sep === "/" ? shown : shown.split(sep).join("/");
}

/** A file a directory walk found but left out, and why (the run's summary lists these). */
export interface SkippedFile {
    file: string;
    reason: string;
}

/** Files a directory walk leaves out: expected-result files that sit beside fixtures. */
function skippedByName(name: string): boolean {
    return name.endsWith(".expected.json");
}

/** Files a directory walk reads only when they turn out to be CloudFormation templates. */
function yamlByName(name: string): boolean {
    return /\.(?:ya?ml|template)$/i.test(name);
}

/** `cdk synth` asset staging folders (`cdk.out/asset.<sha256>`): bundled code, never templates. */
function isCdkAssetDir(name: string): boolean {
    return /^asset\.[0-9a-f]{64}$/.test(name);
}

/**
 * Expands the arguments: a file is taken as is (any extension); `-` is standard input (its `text` is filled in by
 * the caller); a directory is walked recursively for `*.json` files (and `*.yaml`/`*.yml`/`*.template` files that
 * are CloudFormation templates), sorted by path, leaving out `*.expected.json`, `node_modules`, dot-directories,
 * `cdk.out/asset.*` folders and symbolic links.
 * `outputs` are the files this run writes (absolute): one named on the command line is refused (exit 2), one found
 * by a walk is left out and listed in `skipped`. Paths are compared after following symbolic links.
 * Throws {@link CliError} (exit 2) for a path that does not exist.
 */
export function expandPaths(
    args: readonly string[],
    cwd: string,
    outputs: readonly string[] = [],
    skipped: SkippedFile[] = [],
): InputFile[] {
    const out: InputFile[] = [];
    const seen = new Set<string>();
    const outputReal = new Set(outputs.map(realPathOf));
    const add = (abs: string, explicit: boolean, arg: string): void => {
        const real = realPathOf(abs);
        if (outputReal.has(real)) {
            if (explicit) {
                throw new CliError(
                    `${arg} is both an input and a report output of this run: it would be overwritten\nhint: write the report to another file`,
                    EXIT.usage,
                );
            }
            skipped.push({ file: showPath(abs, cwd), reason: "a report output of this run" });
            return;
        }
        if (seen.has(real)) return;
        seen.add(real);
        out.push({ path: abs, shown: showPath(abs, cwd), explicit });
    };
    for (const arg of args) {
        if (arg === "-") {
            if (!seen.has("-")) out.push({ path: "-", shown: STDIN_NAME, explicit: true });
            seen.add("-");
            continue;
        }
        const abs = resolve(cwd, arg);
        let isDir: boolean;
        try {
            isDir = statSync(abs).isDirectory();
        } catch (e) {
            throw new CliError(`${arg}: ${errnoMessage(e)}`, EXIT.usage);
        }
        if (!isDir) {
            add(abs, true, arg);
            continue;
        }
        const found = walk(abs, arg);
        if (found.length === 0) {
            throw new CliError(`${arg}: no *.json, *.yaml or *.template files in this directory`, EXIT.usage);
        }
        for (const f of found) {
            add(f, false, arg);
            if (yamlByName(f) && out[out.length - 1]?.path === f) out[out.length - 1]!.onlyIfTemplate = true;
        }
    }
    return out;
}

function walk(dir: string, shownArg: string): string[] {
    let entries;
    try {
        entries = readdirSync(dir, { withFileTypes: true });
    } catch (e) {
        throw new CliError(`${shownArg}: cannot list directory ${dir}: ${errnoMessage(e)}`, EXIT.usage);
    }
    const files: string[] = [];
    for (const e of entries) {
        const p = join(dir, e.name);
        if (e.isDirectory()) {
            if (e.name.startsWith(".") || e.name === "node_modules" || isCdkAssetDir(e.name)) continue;
            for (const f of walk(p, shownArg)) files.push(f);
        } else if (e.isFile() && (e.name.endsWith(".json") || yamlByName(e.name)) && !skippedByName(e.name)) {
            files.push(p);
        }
    }
    // Code-point order, so the result does not depend on the locale.
    return files.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
