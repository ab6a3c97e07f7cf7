import sharp from 'sharp';
console.log(Object.entries(sharp.format).filter(([k,v])=>v.input.buffer).map(([k])=>k).join(' '));
console.log(sharp.versions);
