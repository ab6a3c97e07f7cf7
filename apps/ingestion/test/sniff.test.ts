import { describe, expect, it } from 'vitest';
import { extensionOf, formatOfExtension, hasImageExtension, sniffFormat } from '../src/sniff.ts';
import { checkBmp } from '../src/bmp.ts';
import { bmp, image } from './make-images.ts';

describe('sniffFormat', () => {
  it('recognises the formats sharp writes from their bytes alone', async () => {
    for (const f of ['jpeg', 'png', 'gif', 'webp', 'tiff', 'avif'] as const) {
      expect(sniffFormat(await image(f, 16, 8))).toBe(f);
    }
    expect(sniffFormat(bmp(5, 3))).toBe('bmp');
  });

  it('recognises big-endian TIFF and HEIC brands', () => {
    expect(sniffFormat(Uint8Array.from([0x4d, 0x4d, 0x00, 0x2a, 0, 0, 0, 8]))).toBe('tiff');
    const heic = Buffer.alloc(24);
    heic.writeUInt32BE(24, 0);
    heic.write('ftypheic', 4, 'ascii');
    heic.write('mif1heic', 16, 'ascii');
    expect(sniffFormat(heic)).toBe('heif');
  });

  it('refuses text, empty input and a lone JPEG start', () => {
    expect(sniffFormat(Buffer.from('hello, I am a text file'))).toBeUndefined();
    expect(sniffFormat(new Uint8Array(0))).toBeUndefined();
    expect(sniffFormat(Uint8Array.from([0xff, 0xd8]))).toBeUndefined();
    // "BM" followed by text is not a bitmap: the info-header size does not fit.
    expect(sniffFormat(Buffer.from('BM is how this sentence starts'))).toBeUndefined();
  });
});

describe('extensions', () => {
  it('uses fastai\'s list in any case, and treats .jpg/.jpeg and .tif/.tiff as one family', () => {
    expect(['a.JPG', 'b.jpeg', 'c.Png', 'd.gif', 'e.BMP', 'f.tif', 'g.TIFF', 'h.webp'].every(hasImageExtension)).toBe(true);
    expect(['a.txt', 'b.avif', 'c', '.jpg', 'dir.jpg/readme'].some(hasImageExtension)).toBe(false);
    expect(extensionOf('train_images/cat/A.JPEG')).toBe('.jpeg');
    expect(formatOfExtension('.jpg')).toBe(formatOfExtension('.jpeg'));
    expect(formatOfExtension('.tif')).toBe('tiff');
    expect(formatOfExtension('.TIFF')).toBe('tiff');
    expect(formatOfExtension('.txt')).toBeUndefined();
  });
});

describe('checkBmp', () => {
  it('reads the size of a complete bitmap and catches a cut one', () => {
    expect(checkBmp(bmp(5, 3))).toEqual({ ok: true, width: 5, height: 3, channels: 3 });
    // 5 px × 3 bytes = 15, padded to 16 per row; 54 + 3·16 = 102 bytes in all.
    const cut = checkBmp(bmp(5, 3).subarray(0, 80));
    expect(cut).toEqual({ ok: false, kind: 'truncated', reason: 'BMP pixel data cut short: 5×3 at 24 bits needs 102 bytes, the file has 80' });
  });

  it('reports compressed bitmaps as unsupported rather than corrupt', () => {
    const rle = bmp(4, 4);
    rle.writeUInt16LE(8, 28);
    rle.writeUInt32LE(1, 30);
    const r = checkBmp(rle);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.kind).toBe('unsupported-format');
  });
});
