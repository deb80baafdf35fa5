/**
 * A small evaluator of ESC environment definitions for the ESC stand-in: enough of pulumi/esc's semantics to produce
 * `exprs` and `properties` in the wire shapes of `GET .../open/{id}` (esc `expr.go`, `value.go`): literals, objects,
 * lists, `${path}` references and interpolations (secret-ness propagates), `fn::secret`, and `fn::open::aws-login`
 * (or `fn::open` with `provider: aws-login`) through a callback that plays AWS. Anything else is a diagnostic.
 * Not a product component: it exists so tests go through real JSON produced from real YAML.
 */
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node as YamlNode, type YAMLMap } from "yaml";
import type { EscDiagnostic, EscExpr, EscRange, EscValue } from "../verify/esc-types.js";

/** What an aws-login call asks for, as plain values. */
export interface LoginRequest {
    mode: "oidc" | "static";
    inputs: Record<string, unknown>;
}

/** What playing AWS returns: the provider's outputs, or an error summary as ESC relays AWS errors. */
export type LoginResult = { ok: true; outputs: Record<string, { value: string; secret: boolean }> } | { ok: false; summary: string };

export interface EvalContext {
    /** `<project>/<env>`, used in ranges. */
    environment: string;
    login: (request: LoginRequest) => LoginResult;
}

export interface Evaluated {
    exprs: Record<string, EscExpr>;
    properties: Record<string, EscValue>;
    diagnostics: EscDiagnostic[];
}

type Accessor = { key: string; range: EscRange } | { index: number; range: EscRange };

/** Parses `aws.login.accessKeyId`, `list[0].x`, `a["b.c"]` into accessors (all given `range`). */
function parsePath(text: string, range: EscRange): Accessor[] | undefined {
    const out: Accessor[] = [];
    const re = /(?:^|\.)([A-Za-z_][\w-]*)|\[(\d+)\]|\["([^"]*)"\]/y;
    let pos = 0;
    while (pos < text.length) {
        re.lastIndex = pos;
        const m = re.exec(text);
        if (!m || re.lastIndex === pos) return undefined;
        if (m[1] !== undefined) out.push({ key: m[1], range });
        else if (m[2] !== undefined) out.push({ index: Number(m[2]), range });
        else out.push({ key: m[3] as string, range });
        pos = re.lastIndex;
    }
    return out.length ? out : undefined;
}

/** Evaluates a definition. YAML errors and unsupported builtins become diagnostics. */
export function evaluateDefinition(yamlText: string, ctx: EvalContext): Evaluated {
    const lc = new LineCounter();
    const doc = parseDocument(yamlText, { lineCounter: lc });
    const diagnostics: EscDiagnostic[] = [];
    const rangeOf = (node: { range?: [number, number, number] | null } | null | undefined): EscRange => {
        const [start, end] = node?.range ?? [0, 0, 0];
        const b = lc.linePos(start);
        const e = lc.linePos(end);
        return { environment: ctx.environment, begin: { line: b.line, column: b.col, byte: start }, end: { line: e.line, column: e.col, byte: end } };
    };
    for (const err of doc.errors) {
        diagnostics.push({ summary: err.message.split("\n")[0] ?? "YAML error", range: rangeOf({ range: [err.pos[0], err.pos[1], err.pos[1]] }) });
    }

    // 1. Expressions.
    const toExpr = (node: YamlNode | null | undefined): EscExpr => {
        const range = rangeOf(node);
        if (!node) return { range };
        if (isScalar(node)) {
            const v = (node).value;
            if (typeof v === "string" && v.includes("${")) {
                const parts: { text?: string; value?: Accessor[] }[] = [];
                const re = /\$\{([^}]*)\}/g;
                let last = 0;
                let m: RegExpExecArray | null;
                while ((m = re.exec(v))) {
                    const acc = parsePath((m[1] as string).trim(), range);
                    if (!acc) {
                        diagnostics.push({ summary: `invalid property access ${m[0]}`, range });
                        return { range, literal: v };
                    }
                    parts.push({ text: v.slice(last, m.index) || undefined, value: acc });
                    last = m.index + m[0].length;
                }
                if (last < v.length) parts.push({ text: v.slice(last) });
                if (parts.length === 1 && !parts[0]?.text && parts[0]?.value) {
                    return { range, symbol: parts[0].value.map((a) => ({ ...a, value: range })) };
                }
                return { range, interpolate: parts.map((p) => ({ ...(p.text ? { text: p.text } : {}), ...(p.value ? { value: p.value.map((a) => ({ ...a, value: range })) } : {}) })) };
            }
            return v === null || v === undefined ? { range } : { range, literal: v };
        }
        if (isSeq(node)) return { range, list: node.items.map((n) => toExpr(n as YamlNode)) };
        if (isMap(node)) {
            const map = node as YAMLMap<YamlNode, YamlNode>;
            const pairs = map.items;
            const key0 = pairs[0]?.key;
            const name0 = isScalar(key0) ? String(key0.value) : "";
            if (pairs.length === 1 && name0.startsWith("fn::")) {
                return { range, builtin: { name: name0, nameRange: rangeOf(key0), argSchema: {}, arg: toExpr(pairs[0]?.value) } as EscExpr["builtin"] };
            }
            const object: Record<string, EscExpr> = {};
            const keyRanges: Record<string, EscRange> = {};
            for (const p of pairs) {
                const k = isScalar(p.key) ? String(p.key.value) : "";
                object[k] = toExpr(p.value);
                keyRanges[k] = rangeOf(p.key);
            }
            return { range, object, keyRanges } as EscExpr;
        }
        return { range };
    };

    const values = doc.get("values", true) as YamlNode | undefined;
    const exprs: Record<string, EscExpr> = {};
    if (values && isMap(values)) {
        for (const p of (values as YAMLMap<YamlNode, YamlNode>).items) {
            exprs[isScalar(p.key) ? String(p.key.value) : ""] = toExpr(p.value);
        }
    }

    // 2. Values, lazily per top-level key so that references resolve in any order.
    const properties: Record<string, EscValue> = {};
    const evaluating = new Set<string>();
    const unknownValue = (range?: EscRange): EscValue => ({ unknown: true, trace: range ? { def: range } : {} });

    const lookup = (accessors: Accessor[], range: EscRange): EscValue => {
        const [first, ...rest] = accessors;
        if (!first || !("key" in first)) return unknownValue(range);
        let cur: EscValue | undefined = top(first.key);
        for (const a of rest) {
            if (!cur) break;
            if (cur.unknown) return unknownValue(range);
            const inner: unknown = cur.value;
            if ("index" in a) cur = Array.isArray(inner) ? (inner[a.index] as EscValue | undefined) : undefined;
            else cur = inner && typeof inner === "object" && !Array.isArray(inner) ? (inner as Record<string, EscValue>)[a.key] : undefined;
        }
        if (!cur) {
            diagnostics.push({ summary: `unknown property ${accessors.map((a) => ("key" in a ? a.key : `[${a.index}]`)).join(".")}`, range });
            return unknownValue(range);
        }
        return cur;
    };

    const plain = (v: EscValue): unknown => {
        const inner = v.value;
        if (Array.isArray(inner)) return inner.map((e) => plain(e as EscValue));
        if (inner && typeof inner === "object") return Object.fromEntries(Object.entries(inner as Record<string, EscValue>).map(([k, e]) => [k, plain(e)]));
        return inner;
    };

    const evalExpr = (e: EscExpr): EscValue => {
        const def = e.range as EscRange;
        if (e.symbol) return { ...lookup(e.symbol as Accessor[], def), trace: { def } };
        if (e.interpolate) {
            let s = "";
            let secret = false;
            for (const part of e.interpolate) {
                s += part.text ?? "";
                if (part.value) {
                    const v = lookup(part.value as Accessor[], def);
                    if (v.unknown) return unknownValue(def);
                    secret ||= v.secret === true;
                    s += typeof v.value === "string" || typeof v.value === "number" || typeof v.value === "boolean" ? String(v.value) : "";
                }
            }
            return secret ? { value: s, secret: true, trace: { def } } : { value: s, trace: { def } };
        }
        if (e.list) return { value: e.list.map(evalExpr), trace: { def } };
        if (e.object) return { value: Object.fromEntries(Object.entries(e.object).map(([k, x]) => [k, evalExpr(x)])), trace: { def } };
        if (e.builtin) return evalBuiltin(e.builtin, def);
        if (e.literal === undefined || e.literal === null) return { trace: { def } };
        return { value: e.literal, trace: { def } };
    };

    const evalBuiltin = (b: NonNullable<EscExpr["builtin"]>, def: EscRange): EscValue => {
        const diagRange = b.nameRange ?? def;
        if (b.name === "fn::secret") {
            const arg = b.arg ? evalExpr(b.arg) : unknownValue(def);
            if (typeof arg.value === "string") return { value: arg.value, secret: true, trace: { def } };
            diagnostics.push({ summary: "fn::secret needs a plaintext string in this stand-in", range: diagRange });
            return unknownValue(def);
        }
        let inputs: unknown;
        if (b.name === "fn::open::aws-login") inputs = b.arg ? plain(evalExpr(b.arg)) : undefined;
        else if (b.name === "fn::open") {
            const arg = b.arg ? (plain(evalExpr(b.arg)) as Record<string, unknown> | undefined) : undefined;
            if (arg?.provider !== "aws-login") {
                diagnostics.push({ summary: `unknown provider ${String(arg?.provider)}`, range: diagRange });
                return unknownValue(def);
            }
            inputs = arg.inputs;
        } else {
            diagnostics.push({ summary: `unsupported builtin ${b.name}`, range: diagRange });
            return unknownValue(def);
        }
        const obj = (inputs && typeof inputs === "object" ? inputs : {}) as Record<string, unknown>;
        const mode = obj.oidc ? "oidc" : obj.static ? "static" : undefined;
        if (!mode) {
            diagnostics.push({ summary: "aws-login: one of oidc or static is required", range: diagRange });
            return unknownValue(def);
        }
        const r = ctx.login({ mode, inputs: (obj[mode] ?? {}) as Record<string, unknown> });
        if (!r.ok) {
            diagnostics.push({ summary: r.summary, range: diagRange });
            return unknownValue(def);
        }
        const out: Record<string, EscValue> = {};
        for (const [k, v] of Object.entries(r.outputs)) out[k] = v.secret ? { value: v.value, secret: true, trace: { def } } : { value: v.value, trace: { def } };
        return { value: out, trace: { def } };
    };

    function top(key: string): EscValue | undefined {
        if (key in properties) return properties[key];
        const e = exprs[key];
        if (!e) return undefined;
        if (evaluating.has(key)) {
            diagnostics.push({ summary: `cyclic reference to ${key}`, range: e.range });
            return unknownValue(e.range);
        }
        evaluating.add(key);
        const v = evalExpr(e);
        evaluating.delete(key);
        properties[key] = v;
        return v;
    }
    for (const k of Object.keys(exprs)) top(k);
    return { exprs, properties, diagnostics };
}
