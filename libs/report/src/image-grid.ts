// A captioned grid of images: the picture behind show_batch and plot_top_losses. Each image is
// scaled with sharp (nearest-neighbour when enlarging, so 28×28 digits stay crisp) and embedded as
// a PNG data URI, which keeps the SVG self-contained and renders each pixel 1:1.
import sharp from 'sharp';
import { boldTextWidth, escapeXml, fitText, picture, r2, type Picture } from './svg.ts';

export interface GridImage {
  /** Pixels in HWC order: 3 channels (RGB), or 1 (grey), or 4 (RGBA); inferred from the length. */
  rgb: Uint8Array;
  width: number;
  height: number;
  /** Shown under the image; "\n" starts another line. */
  caption: string;
}

export interface ImageGridOptions {
  columns: number;
  /** Side of the square box each image is fitted into; default: the largest image side, enlarged
   *  by a whole factor to at least 96 px, or reduced to 256 px. */
  imageSize?: number;
  title?: string;
}

export interface ImageGridLayout {
  /** Where each image's box sits (same order as the input). */
  readonly cells: { x: number; y: number; size: number }[];
}

export type ImageGridPicture = Picture & { readonly layout: ImageGridLayout };

const CAPTION_FONT = 12;
const LINE_HEIGHT = 15;
const GAP = 10;

export async function imageGrid(images: readonly GridImage[], options: ImageGridOptions): Promise<ImageGridPicture> {
  if (images.length === 0) throw new RangeError('imageGrid: no images');
  if (!(Number.isInteger(options.columns) && options.columns > 0)) throw new RangeError(`imageGrid: columns must be a positive integer, got ${options.columns}`);
  const channelsOf = (img: GridImage, i: number) => {
    const px = img.width * img.height;
    const c = px > 0 ? img.rgb.length / px : 0;
    if (c !== 1 && c !== 3 && c !== 4) {
      throw new RangeError(`imageGrid: image ${i} has ${img.rgb.length} bytes, not ${img.width}×${img.height}×(1, 3 or 4)`);
    }
    return c as 1 | 3 | 4;
  };
  const channels = images.map(channelsOf);
  const maxSide = Math.max(...images.map((im) => Math.max(im.width, im.height)));
  const size = options.imageSize ?? (maxSide < 96 ? maxSide * Math.ceil(96 / maxSide) : Math.min(maxSide, 256));

  const columns = Math.min(options.columns, images.length);
  const rows = Math.ceil(images.length / columns);
  const captionLines = Math.max(1, ...images.map((im) => im.caption.split('\n').length));
  const captionHeight = captionLines * LINE_HEIGHT + 6;
  const titleHeight = options.title ? 34 : 0;
  const cellW = size;
  const cellH = size + captionHeight;
  // A long title widens the picture (the grid stays left-aligned) rather than being cut off.
  const width = Math.max(GAP + columns * (cellW + GAP), options.title ? Math.ceil(boldTextWidth(options.title, 16) + 40) : 0);
  const height = titleHeight + GAP + rows * (cellH + GAP);

  const cells: { x: number; y: number; size: number }[] = [];
  const parts: string[] = [];
  if (options.title) {
    parts.push(`<text x="${r2(width / 2)}" y="24" font-size="16" font-weight="bold" text-anchor="middle">${escapeXml(options.title)}</text>`);
  }
  const encoded = await Promise.all(
    images.map(async (im, i) => {
      const scale = Math.min(size / im.width, size / im.height);
      const w = Math.max(1, Math.round(im.width * scale));
      const h = Math.max(1, Math.round(im.height * scale));
      const png = await sharp(im.rgb, { raw: { width: im.width, height: im.height, channels: channels[i] } })
        .resize(w, h, { kernel: scale >= 1 ? 'nearest' : 'lanczos3', fit: 'fill' })
        .png()
        .toBuffer();
      return { png, w, h };
    }),
  );
  images.forEach((im, i) => {
    const x = GAP + (i % columns) * (cellW + GAP);
    const y = titleHeight + GAP + Math.floor(i / columns) * (cellH + GAP);
    cells.push({ x, y, size });
    const { png, w, h } = encoded[i];
    // Centred in its square box, so mixed aspect ratios line up in rows and columns.
    const ix = x + Math.floor((size - w) / 2);
    const iy = y + Math.floor((size - h) / 2);
    parts.push(`<image x="${ix}" y="${iy}" width="${w}" height="${h}" href="data:image/png;base64,${png.toString('base64')}"/>`);
    im.caption.split('\n').forEach((line, k) => {
      const shown = fitText(line, CAPTION_FONT, cellW);
      parts.push(`<text x="${r2(x + cellW / 2)}" y="${y + size + 4 + (k + 1) * LINE_HEIGHT - 3}" font-size="${CAPTION_FONT}" text-anchor="middle">${escapeXml(shown)}</text>`);
    });
  });
  const pic = await picture(width, height, parts.join('\n'));
  return { ...pic, layout: { cells } };
}
