// Shared SVG plumbing for every picture Paddock draws: XML escaping, a width model for DejaVu Sans
// (layout is decided before librsvg renders, so text widths are estimated, erring wide), and the
// SVG -> PNG step through sharp. A Picture keeps both: the PNG people open and the SVG source.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import sharp from 'sharp';

export const FONT_FAMILY = 'DejaVu Sans, sans-serif';

/** A rendered picture: the SVG source and its PNG rendering (1 SVG unit = 1 pixel). */
export interface Picture {
  readonly svg: string;
  readonly png: Buffer;
  readonly width: number;
  readonly height: number;
}

/** Escape text for use in SVG element content and in attribute values. */
export function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;')
    // Control characters other than tab/newline are not allowed in XML 1.0 at all; librsvg
    // rejects the whole document, so a stray byte in a label must not cost the picture.
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '\ufffd');
}

// Advance widths of DejaVu Sans in em, grouped coarsely. The real font is a little narrower on
// average, so layouts built on these numbers leave slack rather than clip.
const NARROW = new Set([...'iljI.,:;!|\'`()[]{} ftr']);
const WIDE = new Set([...'mwMW@%']);

/** Estimated rendered width in pixels of `text` at `fontSize` in DejaVu Sans. */
export function textWidth(text: string, fontSize: number): number {
  let em = 0;
  for (const ch of text) {
    if (NARROW.has(ch)) em += 0.36;
    else if (WIDE.has(ch)) em += 0.95;
    else if (ch >= 'A' && ch <= 'Z') em += 0.72;
    else if (ch >= '0' && ch <= '9') em += 0.64;
    else em += 0.62;
  }
  return em * fontSize;
}

/** Estimated width of bold text (titles): DejaVu Sans Bold runs about 12 % wider than Book. */
export function boldTextWidth(text: string, fontSize: number): number {
  return textWidth(text, fontSize) * 1.15;
}

/** Shorten `text` with an ellipsis so that it fits `maxWidth` pixels at `fontSize`. */
export function fitText(text: string, fontSize: number, maxWidth: number): string {
  if (textWidth(text, fontSize) <= maxWidth) return text;
  const chars = [...text];
  while (chars.length > 1 && textWidth(chars.join('') + '…', fontSize) > maxWidth) chars.pop();
  return chars.join('') + '…';
}

/** Wrap body elements into a standalone SVG document with a white background. */
export function svgDocument(width: number, height: number, body: string): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
    `viewBox="0 0 ${width} ${height}" font-family="${FONT_FAMILY}">\n` +
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>\n${body}\n</svg>\n`
  );
}

/** Render an SVG document to an 8-bit RGB PNG (alpha flattened onto white). */
export async function renderSvg(svg: string): Promise<Buffer> {
  return sharp(Buffer.from(svg)).flatten({ background: '#ffffff' }).png().toBuffer();
}

export async function picture(width: number, height: number, body: string): Promise<Picture> {
  const svg = svgDocument(width, height, body);
  return { svg, png: await renderSvg(svg), width, height };
}

/** Write `<base>.png` and `<base>.svg` (a trailing .png/.svg on `base` is dropped); returns both paths. */
export async function writePicture(pic: Picture, base: string): Promise<{ png: string; svg: string }> {
  const stem = base.replace(/\.(png|svg)$/i, '');
  await mkdir(dirname(stem), { recursive: true });
  const paths = { png: `${stem}.png`, svg: `${stem}.svg` };
  await Promise.all([writeFile(paths.png, pic.png), writeFile(paths.svg, pic.svg, 'utf8')]);
  return paths;
}

/** Round to 2 decimals for coordinates: keeps SVG sources small and diffable. */
export function r2(v: number): string {
  return String(Math.round(v * 100) / 100);
}
