import sharp from 'sharp';
const noise = Buffer.alloc(200*150*3); for (let i=0;i<noise.length;i++) noise[i]=(i*7919)%251;
const raw = { raw: { width: 200, height: 150, channels: 3 } };
const jpg = await sharp(noise, raw).jpeg().toBuffer();
const png = await sharp(noise, raw).png().toBuffer();
const webp = await sharp(noise, raw).webp().toBuffer();
const gif = await sharp(noise, raw).gif().toBuffer();
const tif = await sharp(noise, raw).tiff().toBuffer();
let avif; try { avif = await sharp(noise, raw).avif().toBuffer(); } catch(e) { console.log('avif', e.message) }
let heif; try { heif = await sharp(noise, raw).heif({compression:'hevc'}).toBuffer(); } catch(e) { console.log('heif', e.message) }
const rot = await sharp(noise, raw).jpeg().withMetadata({orientation: 6}).toBuffer();
console.log('rot meta', await sharp(rot).metadata().then(m=>[m.width,m.height,m.orientation,m.autoOrient]));
for (const [name, buf] of Object.entries({jpg, png, webp, gif, tif, avif})) {
  if (!buf) continue;
  console.log(name, buf.subarray(0,16).toString('hex'));
  const cut = buf.subarray(0, Math.floor(buf.length/2));
  for (const failOn of ['warning','error','truncated', undefined]) {
    try { const o = failOn ? {failOn} : {}; const r = await sharp(cut, o).raw().toBuffer({resolveWithObject:true}); console.log(' ', failOn, 'ok', r.info.width) } catch (e) { console.log(' ', failOn, 'ERR', e.message.slice(0,100)) }
  }
  try { const r = await sharp(cut).metadata(); console.log('  meta ok', r.width, r.height) } catch(e) { console.log('  meta ERR', e.message) }
}
try { await sharp(Buffer.from('hello world text')).metadata() } catch (e) { console.log('text:', e.message) }
try { await sharp(Buffer.alloc(0)).metadata() } catch (e) { console.log('empty:', e.message) }
try { await sharp(png, {limitInputPixels: 100}).raw().toBuffer() } catch (e) { console.log('limit:', e.message) }
try { console.log(await sharp(png, {limitInputPixels: 100}).metadata().then(m=>m.width)) } catch (e) { console.log('limit meta:', e.message) }
