// The geometry of fastai's Resize: the output size and the source window it crops or pads, with
// nothing to decode or import, so a worker thread can use it as well as presize.ts.

export type ResizeMethod = 'squish' | 'crop' | 'pad';
export type PadMode = 'zeros' | 'border' | 'reflection';

export interface PresizeSpec {
  /** Output size: a square side, or [height, width] (fastai's order). */
  size: number | readonly [number, number];
  /** fastai default: 'crop'. */
  method?: ResizeMethod;
  /** fastai default: 'reflection'. Only used by 'pad' (a crop window never leaves the image). */
  padMode?: PadMode;
}

/** [height, width] from a fastai-style size. */
export function sizeHW(size: number | readonly [number, number]): [number, number] {
  const [h, w] = typeof size === 'number' ? [size, size] : size;
  if (!(Number.isInteger(h) && Number.isInteger(w) && h > 0 && w > 0)) throw new RangeError(`size must be a positive integer or [height, width] of positive integers, got ${JSON.stringify(size)}`);
  return [h, w];
}

/** A rectangle in source pixels; it may reach outside the image (then it is padded). */
export interface Window {
  left: number;
  top: number;
  width: number;
  height: number;
}

/**
 * The source window fastai's Resize crops/pads before resizing, for a source of `width`×`height`.
 * `pcts` = (x, y) position in [0, 1): fastai draws random() twice on train, uses 0.5 on valid.
 * - squish: the whole image;
 * - crop: the largest window with the target aspect ratio that fits inside;
 * - pad: the smallest window with the target aspect ratio that contains the image (so the image
 *   is placed at `pcts` inside it, which is random on train in fastai too).
 */
export function resizeWindow(width: number, height: number, spec: PresizeSpec, pcts: readonly [number, number]): Window {
  const [H, W] = sizeHW(spec.size);
  const method = spec.method ?? 'crop';
  if (method === 'squish') return { left: 0, top: 0, width, height };
  // fastai: m = w/W if op(w/W, h/H) else h/H, op = lt for crop, gt for pad; cp = int(m·W), int(m·H).
  // Integer arithmetic (w·H/W) instead of int((w/W)·H) avoids 299.99999 → 299 rounding surprises.
  const widthRules = method === 'crop' ? width * H < height * W : width * H > height * W;
  const cpW = Math.max(1, widthRules ? width : Math.floor((height * W) / H));
  const cpH = Math.max(1, widthRules ? Math.floor((width * H) / W) : height);
  // fastai: tl = int(pct · (orig − cp)); Python int() truncates toward zero (matters when padding).
  return { left: Math.trunc(pcts[0] * (width - cpW)), top: Math.trunc(pcts[1] * (height - cpH)), width: cpW, height: cpH };
}

/** Whether `win` lies inside a `width`×`height` image (a pad window may reach outside). */
export function windowInside(win: Window, width: number, height: number): boolean {
  return win.left >= 0 && win.top >= 0 && win.left + win.width <= width && win.top + win.height <= height;
}
