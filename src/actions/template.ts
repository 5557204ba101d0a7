// Placeholder substitution for action commands. A template is one argv element or one script
// line; `{name}` is replaced by a built-in value or a parameter. Nothing here runs a shell: the
// output is an argument array or lines written to a program's stdin.
import type { Family } from '../events.js';

/** What a ban or unban is about: one address (/32, /128) or a network. */
export type TargetKind = 'address' | 'network';

/**
 * A parameter: one string, a list (spliced into argv), a value per address family, or a value
 * per target kind (`{ address = "host{family}", network = "net{family}" }`): the latter exists
 * only where there is a target, in ban and unban.
 */
export type ParamScalar = string | readonly string[];
export type PerFamily = { readonly 4: ParamScalar; readonly 6: ParamScalar };
export type PerKind = { readonly address: ParamScalar; readonly network: ParamScalar };
export type ParamValue = ParamScalar | PerFamily | PerKind;

/** Names only: `{ 198.51.100.1 }` or `{80,443}` in an nft script is left alone. */
const PLACEHOLDER = /\{([a-z][a-z0-9_]*)\}/g;
const MAX_DEPTH = 8;

export interface RenderContext {
  readonly vars: ReadonlyMap<string, ParamValue>;
  /** The family being rendered; family-dependent values need it. */
  readonly family?: Family;
  /** The kind of the target being rendered (ban and unban only); kind-dependent values need it. */
  readonly kind?: TargetKind;
}

export function placeholders(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].map((m) => m[1] ?? '');
}

export function isPerFamily(v: ParamValue): v is PerFamily {
  return typeof v === 'object' && !Array.isArray(v) && '4' in v;
}

export function isPerKind(v: ParamValue): v is PerKind {
  return typeof v === 'object' && !Array.isArray(v) && 'address' in v;
}

/** Every string a parameter can render to (for validation). */
export function paramStrings(v: ParamValue): string[] {
  if (isPerFamily(v)) return [v[4], v[6]].flat();
  if (isPerKind(v)) return [v.address, v.network].flat();
  return typeof v === 'string' ? [v] : [...v];
}

function resolve(name: string, ctx: RenderContext): ParamScalar {
  const v = ctx.vars.get(name);
  if (v === undefined) throw new Error(`unknown placeholder {${name}}`);
  if (isPerFamily(v)) {
    if (ctx.family === undefined) throw new Error(`placeholder {${name}} differs per family and no family applies here`);
    return v[ctx.family];
  }
  if (isPerKind(v)) {
    if (ctx.kind === undefined) throw new Error(`placeholder {${name}} differs between addresses and networks and exists only in ban and unban`);
    return v[ctx.kind];
  }
  return v;
}

/** Renders one string; list values are joined with spaces. */
export function renderString(template: string, ctx: RenderContext, depth = 0): string {
  if (depth > MAX_DEPTH) throw new Error(`placeholders nest too deep (a parameter refers to itself?) in "${template}"`);
  return template.replace(PLACEHOLDER, (_m, name: string) => {
    const v = resolve(name, ctx);
    const parts = typeof v === 'string' ? [v] : v;
    return parts.map((p) => renderString(p, ctx, depth + 1)).join(' ');
  });
}

/** Renders an argv: an element that is exactly `{name}` with a list value expands to that list. */
export function renderArgv(argv: readonly string[], ctx: RenderContext, depth = 0): string[] {
  if (depth > MAX_DEPTH) throw new Error(`placeholders nest too deep (a parameter refers to itself?) in [${argv.join(', ')}]`);
  const out: string[] = [];
  for (const el of argv) {
    const whole = /^\{([a-z][a-z0-9_]*)\}$/.exec(el);
    if (whole?.[1] !== undefined) {
      const v = resolve(whole[1], ctx);
      if (typeof v !== 'string') {
        for (const p of v) out.push(...renderArgv([p], ctx, depth + 1));
        continue;
      }
    }
    out.push(renderString(el, ctx, depth));
  }
  return out;
}
