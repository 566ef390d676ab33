// The page shell shared by every screen: one task per page, no external assets, strict CSP-compatible
// (styles come from /assets/gatehouse.css; no inline script or style; the logo, if any, is a data: URI).
import { html, type Html } from './html.ts';
import { logoOf } from './logo.ts';

/** The `ui` section of the configuration: product name, accent colour, optional logo file. */
export interface Theme { productName: string; primaryColor: string; logoFile?: string }
export interface PageOptions { title: string; body: Html; theme: Theme; error?: string; notice?: string }

export function page({ title, body, theme, error, notice }: PageOptions): string {
  return '<!doctype html>\n' + html`<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${title} · ${theme.productName}</title>
<link rel="stylesheet" href="/assets/gatehouse.css">
<link rel="stylesheet" href="/assets/theme.css">
</head>
<body>
<main class="card">
<p class="brand">${theme.logoFile ? html`<img class="logo" src="${logoOf(theme.logoFile).dataUri}" alt="${theme.productName}">` : theme.productName}</p>
<h1>${title}</h1>
${error ? html`<div class="alert" role="alert" id="error">${error}</div>` : ''}
${notice ? html`<div class="notice" role="status">${notice}</div>` : ''}
${body}
</main>
</body>
</html>`.value;
}
