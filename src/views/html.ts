// A tiny tagged template: every interpolation is HTML-escaped unless it is already Html.
export class Html {
  readonly value: string;
  constructor(value: string) { this.value = value; }
  toString() { return this.value; }
}

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ESC[c]!);

type Part = Html | string | number | boolean | null | undefined | Part[];
const render = (p: Part): string =>
  p === null || p === undefined || p === false ? '' : p instanceof Html ? p.value
    : Array.isArray(p) ? p.map(render).join('') : escapeHtml(String(p));

export function html(strings: TemplateStringsArray, ...values: Part[]): Html {
  let out = strings[0]!;
  values.forEach((v, i) => { out += render(v) + strings[i + 1]; });
  return new Html(out);
}
export const raw = (s: string) => new Html(s);
