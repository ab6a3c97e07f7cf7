// The bar chart (most_confused) and the HTML pieces of the run report: real PNGs decoded back,
// exact strings for the page pieces.
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { barChart, boldTextWidth, dataUri, escapeHtml, htmlImage, htmlPage, htmlSection, htmlTable, imageGrid, textWidth } from '../src/index.ts';

describe('barChart', () => {
  it('draws bars proportional to the values, in list order, in tab:blue', async () => {
    const pic = await barChart(
      [
        { label: 'blast → brown_spot', value: 8 },
        { label: 'hispa → normal', value: 4 },
        { label: 'tungro → blast', value: 2 },
      ],
      { title: 'Most confused', barWidth: 200 },
    );
    expect(pic.layout.bars.map((b) => b.width)).toEqual([200, 100, 50]);
    expect(pic.layout.bars[1].y).toBeGreaterThan(pic.layout.bars[0].y);
    const { data, info } = await sharp(pic.png).raw().toBuffer({ resolveWithObject: true });
    const at = (x: number, y: number) => Array.from(data.subarray((y * info.width + x) * info.channels, (y * info.width + x) * info.channels + 3));
    const b = pic.layout.bars[2];
    expect(at(Math.round(b.x + b.width / 2), Math.round(b.y + b.height / 2))).toEqual([0x1f, 0x77, 0xb4]);
    // Past the end of the shortest bar: background (white) again.
    expect(at(Math.round(b.x + b.width + 40), Math.round(b.y + b.height / 2))).toEqual([255, 255, 255]);
    expect(pic.svg).toContain('blast → brown_spot');
  });

  it('says "none" for an empty list and rejects negative values', async () => {
    const pic = await barChart([], { title: 'Most confused' });
    expect(pic.svg).toContain('>none<');
    await expect(barChart([{ label: 'x', value: -1 }], { title: 't' })).rejects.toThrow(/finite and ≥ 0/);
  });

  it('is wide enough for a bold title', async () => {
    const title = 'A rather long title for a very small chart of confused pairs';
    const pic = await barChart([{ label: 'a', value: 1 }], { title, barWidth: 50 });
    expect(pic.width).toBeGreaterThanOrEqual(boldTextWidth(title, 16));
    expect(boldTextWidth(title, 16)).toBeGreaterThan(textWidth(title, 16));
  });
});

describe('imageGrid title', () => {
  it('widens the picture to fit a long title', async () => {
    const img = { rgb: new Uint8Array(4 * 4 * 3).fill(100), width: 4, height: 4, caption: 'a' };
    const title = 'Top losses: predicted/actual, loss/probability';
    const pic = await imageGrid([img], { columns: 1, title });
    expect(pic.width).toBeGreaterThanOrEqual(Math.ceil(boldTextWidth(title, 16) + 40));
  });
});

describe('HTML pieces', () => {
  it('escape text and attributes', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });

  it('inline bytes as base64 data: URIs', () => {
    expect(dataUri(Uint8Array.of(137, 80, 78, 71))).toBe('data:image/png;base64,iVBORw==');
    expect(dataUri(new TextEncoder().encode('hi'), 'text/plain')).toBe('data:text/plain;base64,aGk=');
    expect(htmlImage(Uint8Array.of(1), 'a "plot"', { id: 'p' })).toBe('<img id="p" src="data:image/png;base64,AQ==" alt="a &quot;plot&quot;">');
  });

  it('format tables: numbers right-aligned with fixed decimals, integers as is, missing as #na#', () => {
    expect(htmlTable(['label', 'loss', 'n'], [['<b>', 0.5, 3], ['x', null, 1]], { digits: 2 })).toBe(
      '<table><thead><tr><th>label</th><th>loss</th><th>n</th></tr></thead><tbody>' +
        '<tr><td>&lt;b&gt;</td><td class="num">0.50</td><td class="num">3</td></tr>\n' +
        '<tr><td>x</td><td>#na#</td><td class="num">1</td></tr></tbody></table>',
    );
  });

  it('make a complete page with no external resources', () => {
    const page = htmlPage('Run <1>', htmlSection('s', 'Scores', '<p>ok</p>'));
    expect(page.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(page).toContain('<title>Run &lt;1&gt;</title>');
    expect(page).toContain('<section id="s"><h2>Scores</h2>\n<p>ok</p>\n</section>');
    expect(page).not.toMatch(/<link|<script|https?:/);
  });
});
