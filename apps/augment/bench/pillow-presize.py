# Pillow reference for bench/presize.ts: decode + exif_transpose + RGB + resize with `threads`
# worker threads (Pillow releases the GIL while decoding and resizing). Prints images/s as JSON.
# Usage: /usr/bin/python3 bench/pillow-presize.py LIST_FILE SIZE METHOD THREADS
import json, sys, time
from concurrent.futures import ThreadPoolExecutor
from PIL import Image, ImageOps

paths = open(sys.argv[1]).read().split('\n')
size, method, threads = int(sys.argv[2]), sys.argv[3], int(sys.argv[4])

def one(p):
    im = ImageOps.exif_transpose(Image.open(p)).convert('RGB')
    if method == 'squish':
        im.draft('RGB', (size, size))
        return im.resize((size, size), Image.BILINEAR).tobytes()
    w, h = im.size
    s = min(w, h)
    box = ((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s)
    return im.resize((size, size), Image.BILINEAR, box=box).tobytes()

with ThreadPoolExecutor(threads) as pool:
    list(pool.map(one, paths[:20]))
    t = time.perf_counter()
    list(pool.map(one, paths))
    s = time.perf_counter() - t
print(json.dumps({'imagesPerSecond': len(paths) / s}))
