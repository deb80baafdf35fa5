/** Turns the command's path arguments into the list of files to read. */
import { readdirSync, statSync, type Dirent, type Stats } from "node:fs";
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
    return /\.expected\.json$/i.test(name);
}

/** Files a directory walk reads: `*.json` (any case, as YAML's extensions are), and the YAML ones below. */
function wantedByName(name: string): boolean {
    return (/\.json$/i.test(name) || yamlByName(name)) && !skippedByName(name);
}

/** Files a directory walk reads only when they turn out to be CloudFormation templates. */
function yamlByName(name: string): boolean {
    return /\.(?:ya?ml|template)$/i.test(name);
}

/** `cdk synth` asset staging folders (`cdk.out/asset.<sha256>`): bundled code, never templates. */
function isCdkAssetDir(name: string): boolean {
    return /^asset\.[0-9a-f]{64}$/.test(name);
}

/** Directories a walk does not enter (nor names, as a link to one): dot-directories, `node_modules`, asset folders. */
function leftOutDir(name: string): boolean {
    return name.startsWith(".") || name === "node_modules" || isCdkAssetDir(name);
}

/**
 * Expands the arguments: a file is taken as is (any extension); `-` is standard input (its `text` is filled in by
 * the caller); a directory is walked recursively for `*.json` files (and `*.yaml`/`*.yml`/`*.template` files that
 * are CloudFormation templates; extensions in any case), sorted by path, leaving out `*.expected.json`,
 * `node_modules`, dot-directories and `cdk.out/asset.*` folders. A symbolic link to a file is followed (the file is
 * read once however many links lead to it; a broken link is read, and fails, as the file it names); a link to a
 * directory is not (a walk never loops, nor walks a tree it was not given), and a FIFO, a socket or a device is not
 * read (a FIFO may never end): each of these is listed in `skipped` with why.
 * `outputs` are the files this run writes (absolute): one named on the command line is refused (exit 2), one found
 * by a walk is left out and listed in `skipped`. Paths are compared after following symbolic links.
 * Throws {@link CliError} (exit 2) for a path that does not exist, and for a directory with no file to read (naming
 * what it left out).
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
        const left: SkippedFile[] = [];
        const found = walk(abs, arg, cwd, left);
        left.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
        if (found.length === 0) {
            const shown = left.slice(0, MAX_LEFT_SHOWN).map((l) => `${l.file} (${l.reason})`);
            if (left.length > MAX_LEFT_SHOWN) shown.push(`${left.length - MAX_LEFT_SHOWN} more`);
            throw new CliError(
                `${arg}: no *.json, *.yaml, *.yml or *.template file to read in this directory` +
                    (shown.length > 0 ? `; left out: ${shown.join("; ")}` : ""),
                EXIT.usage,
            );
        }
        for (const l of left) skipped.push(l);
        for (const f of found) {
            add(f, false, arg);
            if (yamlByName(f) && out[out.length - 1]?.path === f) out[out.length - 1]!.onlyIfTemplate = true;
        }
    }
    return out;
}

/** How many of the entries left out of an empty directory its error names. */
const MAX_LEFT_SHOWN = 5;

/** What a directory entry that is not a regular file or a directory is, for a message. */
function describeOther(st: Stats | Dirent): string {
    if (st.isFIFO()) return "a FIFO";
    if (st.isSocket()) return "a socket";
    if (st.isCharacterDevice() || st.isBlockDevice()) return "a device";
    return "not a regular file";
}

/**
 * The files under `dir` to read, sorted. Entries left out with a reason the user should see (links to
 * directories, FIFOs and the like among the wanted names) are added to `left`; what is left out by name or by rule
 * (other extensions, dot-directories, `node_modules`, asset folders) is not.
 */
function walk(dir: string, shownArg: string, cwd: string, left: SkippedFile[]): string[] {
    let entries;
    try {
        entries = readdirSync(dir, { withFileTypes: true });
    } catch (e) {
        throw new CliError(`${shownArg}: cannot list directory ${dir}: ${errnoMessage(e)}`, EXIT.usage);
    }
    const files: string[] = [];
    const leave = (p: string, reason: string): void => {
        left.push({ file: showPath(p, cwd), reason });
    };
    for (const e of entries) {
        const p = join(dir, e.name);
        if (e.isDirectory()) {
            if (leftOutDir(e.name)) continue;
            for (const f of walk(p, shownArg, cwd, left)) files.push(f);
        } else if (e.isSymbolicLink()) {
            let target: Stats;
            try {
                target = statSync(p);
            } catch {
                // Broken (or a loop of links): read as the file it names, it fails with its reason (exit 2).
                if (wantedByName(e.name)) files.push(p);
                continue;
            }
            if (target.isDirectory()) {
                if (leftOutDir(e.name)) continue;
                leave(p, "a symbolic link to a directory, not followed: name the directory itself to check it");
            } else if (!wantedByName(e.name)) continue;
            else if (target.isFile()) files.push(p);
            else leave(p, `a symbolic link to ${describeOther(target)}, not a regular file: name it on the command line to read it`);
        } else if (wantedByName(e.name)) {
            if (e.isFile()) files.push(p);
            else leave(p, `${describeOther(e)}, not a regular file: name it on the command line to read it`);
        }
    }
    // Code-point order, so the result does not depend on the locale.
    return files.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
