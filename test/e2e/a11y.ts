// A small in-page accessibility check: a STOP-GAP, not an accessibility audit. axe-core (npm `axe-core`)
// is the tool for that and is not installed here; these rules cover what the gateway's pages are most
// likely to get wrong: the document language and title, one h1, a name for every field, button, link
// and image (SVG included), errors announced (role=alert), descriptions that point somewhere, unique ids,
// text contrast (WCAG AA), a visible keyboard focus on everything reachable with Tab, and no sideways
// scrolling on a 320 px wide screen.
import type { Page } from 'playwright-core';

export interface AuditReport { problems: string[]; checked: number; overflowAt320: boolean; focusable: number }

/** Runs in the page: every rule except focus and reflow. */
function inPage(): { problems: string[]; checked: number } {
  const problems: string[] = [];
  let checked = 0;
  const d = document;
  const describe = (el: Element) => `<${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${el.getAttribute('name') ? ` name=${el.getAttribute('name')}` : ''}>`;
  const visible = (el: Element) => {
    const s = getComputedStyle(el);
    const r = (el as HTMLElement).getBoundingClientRect();
    return s.display !== 'none' && s.visibility !== 'hidden' && (r.width > 0 || r.height > 0);
  };
  const labelledBy = (el: Element) => (el.getAttribute('aria-labelledby') ?? '').split(/\s+/).filter(Boolean)
    .map((id) => d.getElementById(id)?.textContent?.trim() ?? '').join(' ').trim();
  const name = (el: Element): string => (el.getAttribute('aria-label') ?? '').trim() || labelledBy(el)
    || ((el as HTMLInputElement).labels ? [...(el as HTMLInputElement).labels!].map((l) => l.textContent ?? '').join(' ').trim() : '')
    || (el.getAttribute('title') ?? '').trim();

  if (!d.documentElement.lang) problems.push('<html> has no lang');
  if (!d.title.trim()) problems.push('the page has no <title>');
  if (!/width=device-width/.test(d.querySelector('meta[name=viewport]')?.getAttribute('content') ?? '')) problems.push('no responsive viewport meta');
  const h1s = [...d.querySelectorAll('h1')];
  if (h1s.length !== 1) problems.push(`${h1s.length} <h1> elements (want exactly one)`);
  else if (!h1s[0]!.textContent!.trim()) problems.push('the <h1> is empty');
  if (!d.querySelector('main')) problems.push('no <main> landmark');

  const ids = new Map<string, number>();
  for (const el of d.querySelectorAll('[id]')) ids.set(el.id, (ids.get(el.id) ?? 0) + 1);
  for (const [id, n] of ids) if (n > 1) problems.push(`id "${id}" used ${n} times`);

  for (const el of d.querySelectorAll('input:not([type=hidden]), select, textarea')) {
    if (!visible(el)) continue; // e.g. the hidden username field kept for password managers
    checked++;
    if (!name(el)) problems.push(`${describe(el)} has no label`);
  }
  for (const el of d.querySelectorAll('[aria-describedby]')) {
    for (const id of el.getAttribute('aria-describedby')!.split(/\s+/)) if (!d.getElementById(id)) problems.push(`${describe(el)} is described by missing #${id}`);
  }
  for (const el of d.querySelectorAll('button, [role=button], input[type=submit]')) {
    checked++;
    if (!((el.textContent ?? '').trim() || name(el) || (el as HTMLInputElement).value)) problems.push(`${describe(el)} has no accessible name`);
  }
  for (const el of d.querySelectorAll('a[href]')) {
    checked++;
    if (!((el.textContent ?? '').trim() || name(el))) problems.push(`${describe(el)} link has no text`);
  }
  for (const el of d.querySelectorAll('img')) {
    checked++;
    if (!el.hasAttribute('alt')) problems.push(`${describe(el)} has no alt`);
  }
  for (const el of d.querySelectorAll('svg')) {
    checked++;
    const hidden = el.closest('[aria-hidden=true]');
    const named = el.closest('[role=img][aria-label], [role=img][aria-labelledby]') || (el.getAttribute('role') === 'img' && name(el)) || el.querySelector('title');
    if (!hidden && !named) problems.push(`${describe(el)} has no text alternative (role=img with aria-label, <title>, or aria-hidden)`);
  }
  for (const el of d.querySelectorAll('.alert, #error')) {
    checked++;
    if (el.getAttribute('role') !== 'alert') problems.push(`${describe(el)} looks like an error but has no role=alert`);
  }

  // Contrast (WCAG 2.x AA): every element that holds text of its own, against the first opaque background.
  const rgb = (c: string) => (c.match(/[\d.]+/g) ?? []).map(Number);
  const lum = ([r, g, b]: number[]) => {
    const f = (v: number) => { const s = v / 255; return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r!) + 0.7152 * f(g!) + 0.0722 * f(b!);
  };
  const background = (el: Element | null): number[] => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length >= 3 && (c.length < 4 || c[3]! > 0.9)) return c;
    }
    return [255, 255, 255];
  };
  for (const el of d.querySelectorAll('body *')) {
    const own = [...el.childNodes].some((n) => n.nodeType === Node.TEXT_NODE && n.textContent!.trim());
    if (!own || !visible(el) || el.closest('svg')) continue;
    checked++;
    const s = getComputedStyle(el);
    const fg = rgb(s.color);
    const [l1, l2] = [lum(fg), lum(background(el))].sort((a, b) => b - a);
    const ratio = (l1! + 0.05) / (l2! + 0.05);
    const size = parseFloat(s.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(s.fontWeight) >= 700);
    if (ratio < (large ? 3 : 4.5)) problems.push(`${describe(el)} "${el.textContent!.trim().slice(0, 30)}" contrast ${ratio.toFixed(2)}:1`);
  }
  return { problems, checked };
}

/** Tabs through the page: every stop must show a focus indicator (outline or box-shadow), the outline at 3:1. */
async function focusStops(page: Page): Promise<{ problems: string[]; stops: number }> {
  const problems: string[] = [];
  const count = await page.evaluate(() => document.querySelectorAll('a[href], button:not([disabled]), input:not([type=hidden]):not([disabled]), select, textarea').length);
  // A click on the empty corner puts the sequential focus starting point at the top of the document.
  await page.mouse.click(1, 1);
  const seen = new Set<string>();
  for (let i = 0; i < count; i++) {
    await page.keyboard.press('Tab');
    const r = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement | null;
      if (!el || el === document.body) return undefined;
      const s = getComputedStyle(el);
      const rgb = (c: string) => (c.match(/[\d.]+/g) ?? []).map(Number);
      const lum = ([r, g, b]: number[]) => {
        const f = (v: number) => { const x = v / 255; return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4; };
        return 0.2126 * f(r!) + 0.7152 * f(g!) + 0.0722 * f(b!);
      };
      let bg = [255, 255, 255];
      for (let e = el.parentElement; e; e = e.parentElement) {
        const c = rgb(getComputedStyle(e).backgroundColor);
        if (c.length >= 3 && (c.length < 4 || c[3]! > 0.9)) { bg = c; break; }
      }
      const [l1, l2] = [lum(rgb(s.outlineColor)), lum(bg)].sort((a, b) => b - a);
      const key = `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${el.getAttribute('value') ? `[value=${el.getAttribute('value')}]` : ''}`;
      return { key, outline: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0, shadow: s.boxShadow !== 'none', ratio: (l1! + 0.05) / (l2! + 0.05) };
    });
    if (!r) break;
    if (seen.has(r.key)) break;
    seen.add(r.key);
    if (!r.outline && !r.shadow) problems.push(`no visible focus on ${r.key}`);
    else if (r.outline && r.ratio < 3) problems.push(`focus outline on ${r.key} contrasts ${r.ratio.toFixed(2)}:1 with its background (want 3:1)`);
  }
  if (count > 0 && seen.size === 0) problems.push('nothing reachable with Tab');
  return { problems, stops: seen.size };
}

export async function audit(page: Page): Promise<AuditReport> {
  const r = await page.evaluate(inPage);
  const focus = await focusStops(page);
  const size = page.viewportSize();
  await page.setViewportSize({ width: 320, height: 640 });
  const overflowAt320 = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);
  if (size) await page.setViewportSize(size);
  return { problems: [...r.problems, ...focus.problems], checked: r.checked, overflowAt320, focusable: focus.stops };
}
