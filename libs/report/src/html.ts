// Pieces of a self-contained HTML page: escaping, PNGs inlined as data: URIs, tables, sections.
// Strings in, strings out — the page that uses them decides what goes where.

/** Escape text for HTML element content and double-quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** A data: URI for bytes of the given MIME type (PNG by default). */
export function dataUri(bytes: Uint8Array, mime = 'image/png'): string {
  return `data:${mime};base64,${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')}`;
}

/** An <img> with the picture inlined; `alt` is required so the page says what a broken image was. */
export function htmlImage(png: Uint8Array, alt: string, options: { id?: string; maxWidth?: number } = {}): string {
  const id = options.id ? ` id="${escapeHtml(options.id)}"` : '';
  const style = options.maxWidth ? ` style="max-width:${options.maxWidth}px"` : '';
  return `<img${id} src="${dataUri(png)}" alt="${escapeHtml(alt)}"${style}>`;
}

export type HtmlCell = string | number | null | undefined;

/** A table; numbers are right-aligned and shown with `digits` decimals unless integers. */
export function htmlTable(header: readonly string[], rows: readonly (readonly HtmlCell[])[], options: { id?: string; digits?: number } = {}): string {
  const digits = options.digits ?? 6;
  const cell = (v: HtmlCell, tag: 'td' | 'th') => {
    if (v === null || v === undefined) return `<${tag}>#na#</${tag}>`;
    if (typeof v === 'number') return `<${tag} class="num">${Number.isInteger(v) ? String(v) : Number.isFinite(v) ? v.toFixed(digits) : String(v)}</${tag}>`;
    return `<${tag}>${escapeHtml(v)}</${tag}>`;
  };
  const id = options.id ? ` id="${escapeHtml(options.id)}"` : '';
  return (
    `<table${id}><thead><tr>${header.map((h) => cell(h, 'th')).join('')}</tr></thead>` +
    `<tbody>${rows.map((r) => `<tr>${r.map((v) => cell(v, 'td')).join('')}</tr>`).join('\n')}</tbody></table>`
  );
}

/** A titled section; `body` is HTML already. */
export function htmlSection(id: string, title: string, body: string): string {
  return `<section id="${escapeHtml(id)}"><h2>${escapeHtml(title)}</h2>\n${body}\n</section>`;
}

const STYLE = `body{font-family:"DejaVu Sans",sans-serif;margin:24px auto;max-width:1100px;color:#222;padding:0 16px}
h1{font-size:24px}h2{font-size:18px;border-bottom:1px solid #ccc;padding-bottom:4px;margin-top:32px}
table{border-collapse:collapse;font-size:13px;margin:8px 0}th,td{border:1px solid #ddd;padding:3px 8px;text-align:left}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}thead{background:#f3f6fa}
img{max-width:100%;height:auto;display:block;margin:8px 0}.note{color:#666;font-size:13px}
dl.kv{display:grid;grid-template-columns:max-content auto;gap:2px 16px;font-size:14px}dt{font-weight:bold}dd{margin:0}
pre{background:#f6f8fa;padding:8px;font-size:12px;overflow:auto}`;

/** A complete page: no external resources at all (styles inline, images as data: URIs). */
export function htmlPage(title: string, body: string): string {
  return (
    `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">` +
    `<meta name="viewport" content="width=device-width, initial-scale=1">` +
    `<title>${escapeHtml(title)}</title><style>${STYLE}</style></head>\n<body>\n<h1>${escapeHtml(title)}</h1>\n${body}\n</body></html>\n`
  );
}
