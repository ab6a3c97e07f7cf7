# Pillow reference for bench/presize.ts: decode + exif_transpose + RGB + resize with `threads`
# worker threads (Pillow releases the GIL while decoding and resizing). Prints images/s and CPU ms
# per image (all threads) as JSON. No draft(): fastai's PILImage.create decodes in full, and the
# draft() below comes after exif_transpose has loaded the image, so it is a no-op (at these
# datasets' sizes, ≤ 2× reductions, DCT scaling could not engage on either side anyway).
# With DUMP_FILE it times nothing and writes fastai's Resize of the first 100 images instead (crop,
# then resize: what a fastai user gets, where the timed box= resize reads a little outside the
# crop at its edges) as raw RGB, one after another, for the bench's pixel comparison.
# Usage: /usr/bin/python3 bench/pillow-presize.py LIST_FILE SIZE METHOD THREADS [DUMP_FILE]
import json, sys, time
from concurrent.futures import ThreadPoolExecutor
from PIL import Image, ImageOps

paths = [p for p in open(sys.argv[1]).read().split("\n") if p]
size, method, threads = int(sys.argv[2]), sys.argv[3], int(sys.argv[4])

def open_rgb(p):
    return ImageOps.exif_transpose(Image.open(p)).convert('RGB')

def centre_square(im):
    w, h = im.size
    s = min(w, h)
    return ((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s)

def one(p):
    im = open_rgb(p)
    if method == 'squish':
        im.draft('RGB', (size, size))
        return im.resize((size, size), Image.BILINEAR).tobytes()
    return im.resize((size, size), Image.BILINEAR, box=centre_square(im)).tobytes()

def fastai_resize(p):
    im = open_rgb(p)
    if method == 'crop':
        im = im.crop(centre_square(im))
    return im.resize((size, size), Image.BILINEAR).tobytes()

if len(sys.argv) > 5:
    with open(sys.argv[5], 'wb') as out:
        for p in paths[:100]:
            out.write(fastai_resize(p))
    sys.exit(0)

with ThreadPoolExecutor(threads) as pool:
    list(pool.map(one, paths[:20]))
    t, c = time.perf_counter(), time.process_time()
    list(pool.map(one, paths))
    s, cpu = time.perf_counter() - t, time.process_time() - c
print(json.dumps({'imagesPerSecond': len(paths) / s, 'cpuMsPerImage': 1000 * cpu / len(paths)}))
