// Image decoding rules shared by every stage that reads pixels: one place decides what "the image"
// is (EXIF orientation applied, 8-bit sRGB, exactly 3 channels), so presize, evaluation and
// submission all see the same pixels fastai's PILImage.create(...).convert('RGB') would.
import sharp from 'sharp';

/** An 8-bit RGB image, row-major HWC (`data.length === height * width * 3`). */
export interface RgbImage {
  readonly data: Uint8Array;
  readonly width: number;
  readonly height: number;
}

/**
 * Decode a file (path) or encoded bytes to 8-bit sRGB HWC with 3 channels.
 *
 * - EXIF orientation is applied (`rotate()` without an angle), so width/height are as displayed.
 * - Alpha is DROPPED, not composited: PIL's `convert('RGB')` keeps the colour stored under a
 *   transparent pixel, and fastai trains on that, so a transparent pixel keeps its RGB (sharp
 *   `removeAlpha()`); flattening onto white or black would change what the model sees.
 * - Greyscale (with or without alpha) becomes 3 equal channels; CMYK and embedded ICC profiles are
 *   converted to sRGB by libvips (PIL would ignore the profile: a deliberate, more faithful choice).
 * - 16-bit images become 8-bit by libvips' colourspace cast (the high byte, v >> 8). PIL reads
 *   16-bit RGB the same way but saturates 16-bit greyscale ("I;16" → RGB clips at 255); we do not
 *   copy that bug.
 * - Animated formats give their first frame. `failOn: 'truncated'` rejects truncated files but
 *   accepts files with harmless warnings (many camera JPEGs have them).
 */
export async function decodeImage(input: string | Buffer | Uint8Array): Promise<RgbImage> {
  const { data, info } = await sharp(input, { failOn: 'truncated' })
    .rotate()
    .toColourspace('srgb')
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`decodeImage: expected 3 channels after conversion, got ${info.channels}`);
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height };
}
