// The stylesheet: system fonts, high contrast, visible focus, phone-to-desktop widths.
import type { Theme } from './layout.ts';

export const BASE_CSS = `*{box-sizing:border-box}
html{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;font-size:100%;color:#1a1a1a;background:#f3f4f6}
body{margin:0;padding:1rem;min-height:100vh;display:flex;align-items:flex-start;justify-content:center}
.card{background:#fff;width:100%;max-width:26rem;margin-top:8vh;padding:1.5rem 1.75rem;border-radius:.5rem;box-shadow:0 1px 3px rgba(0,0,0,.15)}
.brand{margin:0 0 .25rem;font-weight:600;color:var(--accent)}
.logo{display:block;height:2.5rem;width:auto;max-width:100%;object-fit:contain;object-position:left}
h1{font-size:1.4rem;margin:.25rem 0 1rem}
label{display:block;font-weight:600;margin:.75rem 0 .25rem}
input[type=text],input[type=password],input[type=email]{width:100%;padding:.6rem .7rem;font-size:1rem;border:1px solid #6b7280;border-radius:.35rem}
button,.button{display:inline-block;margin-top:1rem;padding:.65rem 1.1rem;font-size:1rem;font-weight:600;border-radius:.35rem;border:1px solid var(--accent);background:var(--accent);color:#fff;cursor:pointer;text-decoration:none}
button.secondary,.button.secondary{background:#fff;color:var(--accent)}
button:focus-visible,a:focus-visible,input:focus-visible{outline:3px solid #b45309;outline-offset:2px}
a{color:var(--accent)}
.alert{border:1px solid #b91c1c;background:#fef2f2;color:#7f1d1d;padding:.6rem .75rem;border-radius:.35rem}
.notice{border:1px solid #1d4ed8;background:#eff6ff;color:#1e3a8a;padding:.6rem .75rem;border-radius:.35rem}
.muted{color:#4b5563;font-size:.9rem}
.choices{list-style:none;padding:0;margin:0}
.choices li{margin:.5rem 0}
.choices button{width:100%;text-align:left}
.choices button .muted{color:inherit;font-weight:400}
.choices button.unavailable{background:#f3f4f6;color:#374151;border:1px dashed #6b7280;cursor:not-allowed}
.choices .why{margin:.25rem 0 0}
.qr svg{width:12rem;height:12rem}
code,.code{font-family:ui-monospace,monospace;background:#f3f4f6;padding:.1rem .3rem;border-radius:.2rem}
ul.codes{columns:2;font-family:ui-monospace,monospace}
`;

/** Colours from config, served as their own small stylesheet so the CSP needs no inline style. */
export const themeCss = (t: Theme) => `:root{--accent:${/^#[0-9a-fA-F]{6}$/.test(t.primaryColor) ? t.primaryColor : '#1f5fbf'}}\n`;
