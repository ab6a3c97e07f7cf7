import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import {
  blues, confusionMatrixPlot, escapeXml, formatFloat, formatLinearTick, formatLogTick, formatTable, formatTime,
  hexToRgb, imageGrid, linePlot, linearTicks, logTicks, writePicture,
} from '../src/index.ts';

async function decode(png: Buffer) {
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  const at = (x: number, y: number): [number, number, number] => {
    const o = (Math.floor(y) * info.width + Math.floor(x)) * info.channels;
    return [data[o], data[o + 1], data[o + 2]];
  };
  return { info, at };
}

const near = (a: readonly number[], b: readonly number[], tol = 2) => a.every((v, i) => Math.abs(v - b[i]) <= tol);

describe('escapeXml', () => {
  it('escapes the five XML specials and replaces control characters', () => {
    expect(escapeXml('a<b&"c"')).toBe('a&lt;b&amp;&quot;c&quot;');
    expect(escapeXml("x>'y'")).toBe('x&gt;&apos;y&apos;');
    expect(escapeXml('bell\u0007')).toBe('bell\ufffd');
  });
});

describe('confusionMatrixPlot', () => {
  const matrix = [
    [5, 1, 0],
    [2, 9, 1],
    [0, 3, 4],
  ];

  it('renders a PNG of the stated size whose darkest cell holds the biggest count', async () => {
    const pic = await confusionMatrixPlot(matrix, ['cat', 'dog', 'bird'], { title: 'Pets' });
    const { info, at } = await decode(pic.png);
    expect([info.width, info.height]).toEqual([pic.width, pic.height]);
    expect(info.format).toBe('raw');
    const { gridLeft, gridTop, cellSize } = pic.layout;
    // Sample off the centre, towards the cell's top-left, where the printed count does not reach.
    const cell = (i: number, j: number) => at(gridLeft + j * cellSize + cellSize * 0.2, gridTop + i * cellSize + cellSize * 0.2);
    expect(cell(1, 1)).toEqual(hexToRgb('#08306b')); // 9, the maximum: the end of the Blues ramp
    expect(cell(0, 2)).toEqual(hexToRgb('#f7fbff')); // 0: the start of the ramp
    expect(near(cell(0, 0), hexToRgb(blues(5 / 9)), 1)).toBe(true);
    const lum = ([r, g, b]: number[]) => 0.299 * r + 0.587 * g + 0.114 * b;
    const all = matrix.flatMap((row, i) => row.map((_, j) => ({ i, j, l: lum(cell(i, j)) })));
    const darkest = all.reduce((a, b) => (b.l < a.l ? b : a));
    expect([darkest.i, darkest.j]).toEqual([1, 1]);
    // Counts printed, axes named.
    expect(pic.svg).toContain('>9</text>');
    expect(pic.svg).toContain('>Actual</text>');
    expect(pic.svg).toContain('>Predicted</text>');
    expect(pic.svg).toContain('>Pets</text>');
  });

  it('escapes label text for XML and still renders', async () => {
    const pic = await confusionMatrixPlot([[1, 0], [0, 1]], ['a<b&"c"', 'plain']);
    expect(pic.svg).toContain('>a&lt;b&amp;&quot;c&quot;</text>');
    expect(pic.svg).not.toContain('a<b&"c"');
    const meta = await sharp(pic.png).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', pic.width, pic.height]);
  });

  it('normalizes rows to fractions with two decimals', async () => {
    const pic = await confusionMatrixPlot([[3, 1], [0, 0]], ['x', 'y'], { normalize: true });
    expect(pic.svg).toContain('>0.75</text>');
    expect(pic.svg).toContain('>0.25</text>');
    // An empty row (no actual "y") stays 0 rather than NaN.
    expect(pic.svg).not.toContain('NaN');
    expect((pic.svg.match(/>0\.00<\/text>/g) ?? []).length).toBe(2);
  });

  it('keeps 12 long, rotated class names inside the picture', async () => {
    const labels = Array.from({ length: 12 }, (_, i) => `bacterial_panicle_blight_variant_${i}`);
    const m = labels.map((_, i) => labels.map((_, j) => (i === j ? 1200 + i : (i + j) % 4)));
    const pic = await confusionMatrixPlot(m, labels);
    const { info, at } = await decode(pic.png);
    expect(pic.layout.cellSize).toBe(50);
    // Nothing drawn on the outermost pixel columns/rows: the labels were not clipped.
    for (let y = 0; y < info.height; y += 1) {
      expect(at(0, y)).toEqual([255, 255, 255]);
      expect(at(info.width - 1, y)).toEqual([255, 255, 255]);
    }
    for (let x = 0; x < info.width; x += 1) expect(at(x, info.height - 1)).toEqual([255, 255, 255]);
    expect(pic.svg).toContain('rotate(-45');
  });

  it('rejects a matrix that does not match the labels', async () => {
    await expect(confusionMatrixPlot([[1, 2]], ['a'])).rejects.toThrow(/1×1/);
  });
});

describe('ticks', () => {
  it('chooses 1-2-5 steps and widens to whole steps', () => {
    expect(linearTicks(0, 1)).toEqual({ domain: [0, 1], ticks: [0, 0.2, 0.4, 0.6, 0.8, 1], step: 0.2 });
    // (2.31 − 0.13) / 5 = 0.436 → 0.5
    expect(linearTicks(0.13, 2.31).ticks).toEqual([0, 0.5, 1, 1.5, 2, 2.5]);
    expect(linearTicks(3, 3).domain).toEqual([2.7, 3.3]);
    expect(linearTicks(0, 0).ticks).toEqual([-1, -0.5, 0, 0.5, 1]);
  });

  it('uses decades on a log axis, with 2 and 5 marks for short ranges', () => {
    const lr = logTicks(1e-7, 10);
    expect(lr.domain).toEqual([1e-7, 10]);
    expect(lr.ticks).toEqual([1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 0.1, 1, 10]);
    expect(logTicks(0.002, 0.03).ticks).toEqual([0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1]);
    expect(() => logTicks(0, 1)).toThrow(/positive/);
  });

  it('formats tick labels', () => {
    expect(formatLinearTick(0.5, 0.5)).toBe('0.5');
    expect(formatLinearTick(1500, 500)).toBe('1500');
    expect(formatLinearTick(-1e-17, 0.05)).toBe('0.00');
    expect(formatLogTick(1e-3)).toBe('10⁻³');
    expect(formatLogTick(2e-3)).toBe('2×10⁻³');
    expect(formatLogTick(10)).toBe('10¹');
  });
});

describe('linePlot', () => {
  it('draws each series where its data maps and breaks the line at non-finite points', async () => {
    const x = Array.from({ length: 11 }, (_, i) => i);
    const y = x.map((i) => (i === 5 ? NaN : 1));
    const pic = await linePlot([{ name: 'train_loss', x, y }], { title: 'Loss', xLabel: 'batch', yLabel: 'loss' });
    expect([pic.width, pic.height]).toEqual([720, 440]);
    const { layout } = pic;
    expect(layout.xDomain).toEqual([0, 10]);
    expect(layout.xTicks).toEqual([0, 2, 4, 6, 8, 10]);
    expect(layout.yDomain).toEqual([0.9, 1.1]);
    const px = (v: number) => layout.plot.left + ((v - 0) / 10) * layout.plot.width;
    const py = (v: number) => layout.plot.top + layout.plot.height - ((v - 0.9) / 0.2) * layout.plot.height;
    const { info, at } = await decode(pic.png);
    expect([info.width, info.height]).toEqual([720, 440]);
    const blue = hexToRgb('#1f77b4');
    const onLine = at(px(3), py(1));
    expect(Math.hypot(onLine[0] - blue[0], onLine[1] - blue[1], onLine[2] - blue[2])).toBeLessThan(60);
    // The NaN at x = 5 leaves a gap between x = 4 and x = 6: no blue there.
    const gap = at(px(5), py(1));
    expect(gap[2] - gap[0]).toBeLessThan(20);
    // Far from the line: background.
    expect(at(px(3), py(0.975))).toEqual([255, 255, 255]);
    expect(pic.svg).toContain('>train_loss</text>');
  });

  it('skips x ≤ 0 and Infinity on a log axis and labels decades', async () => {
    const pic = await linePlot(
      [{ name: 'lr_find', x: [0, 1e-5, 1e-3, 1e-1], y: [1, 2, 3, Infinity] }],
      { title: 'lr_find', xLabel: 'Learning Rate', yLabel: 'Loss', logX: true },
    );
    expect(pic.layout.xDomain).toEqual([1e-5, 1e-3]);
    expect(pic.layout.xTicks).toEqual([1e-5, 2e-5, 5e-5, 1e-4, 2e-4, 5e-4, 1e-3]);
    expect(pic.layout.yDomain).toEqual([2, 3]);
    expect(pic.svg).toContain('>10⁻⁴</text>');
    expect(pic.svg).not.toMatch(/NaN|Infinity/);
    // Two usable points: one segment plus a dot at each point (short series get markers).
    expect((pic.svg.match(/<polyline/g) ?? []).length).toBe(1);
    expect((pic.svg.match(/<circle/g) ?? []).length).toBe(2);
  });

  it('renders axes and a note when no point is finite', async () => {
    const pic = await linePlot([{ name: 'loss', x: [1, 2], y: [NaN, NaN] }], { title: 't', xLabel: 'x', yLabel: 'y', width: 300, height: 200 });
    expect(pic.svg).toContain('no finite data');
    const meta = await sharp(pic.png).metadata();
    expect([meta.width, meta.height]).toEqual([300, 200]);
  });

  it('rejects series whose x and y lengths differ', async () => {
    await expect(linePlot([{ name: 's', x: [1, 2], y: [1] }], { title: 't', xLabel: 'x', yLabel: 'y' })).rejects.toThrow(/"s"/);
  });
});

describe('imageGrid', () => {
  const solid = (w: number, h: number, rgb: number[]) => {
    const data = new Uint8Array(w * h * rgb.length);
    for (let i = 0; i < w * h; i++) data.set(rgb, i * rgb.length);
    return data;
  };

  it('lays images out in columns with captions and keeps their pixels', async () => {
    const pic = await imageGrid(
      [
        { rgb: solid(2, 2, [255, 0, 0]), width: 2, height: 2, caption: 'red' },
        { rgb: solid(4, 2, [0, 255, 0]), width: 4, height: 2, caption: '<g>' },
        { rgb: solid(3, 3, [128]), width: 3, height: 3, caption: 'grey' },
      ],
      { columns: 2, imageSize: 40 },
    );
    // width = 10 + 2·(40 + 10); height = 10 + 2·(40 + caption 21 + 10)
    expect([pic.width, pic.height]).toEqual([110, 152]);
    const { info, at } = await decode(pic.png);
    expect([info.width, info.height]).toEqual([110, 152]);
    const [c0, c1, c2] = pic.layout.cells;
    expect(c0).toEqual({ x: 10, y: 10, size: 40 });
    expect(c1).toEqual({ x: 60, y: 10, size: 40 });
    expect(c2).toEqual({ x: 10, y: 81, size: 40 });
    expect(at(c0.x + 20, c0.y + 20)).toEqual([255, 0, 0]);
    expect(at(c0.x + 1, c0.y + 1)).toEqual([255, 0, 0]);
    // 4×2 fitted to 40×20 and centred: green in the middle band, white above it.
    expect(at(c1.x + 20, c1.y + 20)).toEqual([0, 255, 0]);
    expect(at(c1.x + 20, c1.y + 5)).toEqual([255, 255, 255]);
    expect(at(c2.x + 20, c2.y + 20)).toEqual([128, 128, 128]);
    expect(pic.svg).toContain('>&lt;g&gt;</text>');
  });

  it('rejects pixel buffers that do not match the size', async () => {
    await expect(imageGrid([{ rgb: new Uint8Array(5), width: 2, height: 2, caption: '' }], { columns: 1 })).rejects.toThrow(/image 0/);
  });
});

describe('formatTable', () => {
  it('prints the fastai epoch table layout exactly', () => {
    const text = formatTable(
      [
        { epoch: 0, train_loss: 1.474926, valid_loss: 0.811328, error_rate: 0.24796, time: 37 },
        { epoch: 1, train_loss: 0.5, valid_loss: null, error_rate: NaN, time: 3725 },
      ],
      ['epoch', 'train_loss', 'valid_loss', 'error_rate', 'time'],
    );
    expect(text).toBe(
      [
        'epoch     train_loss  valid_loss  error_rate  time',
        '0         1.474926    0.811328    0.247960    00:37',
        '1         0.500000    #na#        nan         1:02:05',
      ].join('\n'),
    );
  });

  it('honours explicit column formats', () => {
    expect(formatTable([{ n: 3.7, name: 'resnet18' }], [{ name: 'n', format: 'int' }, 'name'])).toBe('n         name\n3         resnet18');
    expect(formatTime(59.6)).toBe('01:00');
    expect(formatTime(0)).toBe('00:00');
    expect(formatFloat(-Infinity)).toBe('-inf');
  });
});

describe('writePicture', () => {
  it('writes the PNG and its SVG source next to each other', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'paddock-report-'));
    try {
      const pic = await confusionMatrixPlot([[2, 0], [1, 3]], ['a', 'b']);
      const paths = await writePicture(pic, join(dir, 'sub', 'confusion_matrix.png'));
      expect(paths).toEqual({ png: join(dir, 'sub', 'confusion_matrix.png'), svg: join(dir, 'sub', 'confusion_matrix.svg') });
      expect(await readFile(paths.svg, 'utf8')).toBe(pic.svg);
      const meta = await sharp(await readFile(paths.png)).metadata();
      expect([meta.format, meta.width, meta.height, meta.channels]).toEqual(['png', pic.width, pic.height, 3]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
