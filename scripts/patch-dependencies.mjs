// Runs after `npm install` / `npm ci` (package.json "postinstall"). Plain JavaScript on purpose: npm runs
// it with whatever Node runs npm (the machine's may be older than the Node 24 the gateway runs on).
//
// oidc-provider (9.13.3, lib/helpers/initialize_app.js `ensureOIDC`,
// https://github.com/panva/node-oidc-provider/blob/v9.13.3/lib/helpers/initialize_app.js) gives every
// request's Koa context its `oidc` property as an accessor with a getter closure of its own:
//
//     Object.defineProperty(ctx, 'oidc', { get: () => { oidcCtx ||= new this.OIDCContext(ctx); return oidcCtx; } });
//
// Measured under load (--trace-gc-nvp): with that accessor, about a tenth of all allocation survives each
// young-generation GC (the request's graph — Koa context, req/res, response headers, parameters, tokens —
// is copied, promoted, and only freed by the next full GC), each scavenge pauses the process ≈ 10 ms
// instead of ≈ 0.3, and V8 turns every context into a dictionary-mode (slow-properties) object. A heap
// snapshot (which runs a full GC first) shows none of it. The patch defines the same property
// as a data property with the context built at once (same name, same attributes: not writable, not
// enumerable, not configurable; OIDCContext's constructor only reads what the router has already set).
// Measured (bare oidc-provider, client credentials, one core): 230 → 209 µs CPU per grant, scavenge
// pauses 10 → 0.3 ms (bench/REPORT.md, 2026-12-06 afternoon; docs/design.md).
//
// Idempotent. When the file no longer holds the original text (a release that changed it), nothing is
// written and a notice says so; test/oidc/request-garbage.test.ts then tells whether the fix is still needed.
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export const PATCHES = [{
  pkg: 'oidc-provider',
  file: 'lib/helpers/initialize_app.js',
  why: 'the per-request `ctx.oidc` accessor keeps every request alive through young-generation GCs',
  from: `    let oidcCtx;
    Object.defineProperty(ctx, 'oidc', {
      get: () => {
        oidcCtx ||= new this.OIDCContext(ctx);
        return oidcCtx;
      },
    });`,
  to: `    // Patched by gatehouse scripts/patch-dependencies.mjs: a data property, not a per-request getter.
    Object.defineProperty(ctx, 'oidc', { value: new this.OIDCContext(ctx) });`,
}];

/** Applies the patches under `root` (a directory holding node_modules); returns one line per patch. */
export function patchDependencies(root) {
  const out = [];
  for (const p of PATCHES) {
    const path = join(root, 'node_modules', p.pkg, p.file);
    if (!existsSync(path)) { out.push(`${p.pkg}: not installed, nothing to patch`); continue; }
    const text = readFileSync(path, 'utf8');
    if (text.includes(p.to)) { out.push(`${p.pkg}: already patched`); continue; }
    const at = text.indexOf(p.from);
    if (at < 0 || text.indexOf(p.from, at + 1) >= 0) {
      out.push(`${p.pkg}: NOT patched — ${p.file} no longer holds the expected text (${p.why}); see scripts/patch-dependencies.mjs`);
      continue;
    }
    writeFileSync(path, text.replace(p.from, p.to));
    out.push(`${p.pkg}: patched ${p.file} (${p.why})`);
  }
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const root = process.argv[2] ?? fileURLToPath(new URL('..', import.meta.url));
  for (const line of patchDependencies(root)) process.stdout.write(`gatehouse postinstall: ${line}\n`);
}
