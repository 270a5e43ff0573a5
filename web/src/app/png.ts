/**
 * An 8-bit single-channel (grey) PNG encoder: the class-id PNG `liveseg segment --save labels` writes, which a
 * canvas cannot make (its PNGs are always RGBA). Deflate is the browser's own (CompressionStream).
 */

const SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];

let crcTable: Uint32Array | null = null;

function crc32(bytes: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (const b of bytes) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** zlib-wrapped deflate of `bytes` (what PNG's IDAT and the JSON's `segmentationMap` hold). */
export async function deflate(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as BlobPart]).stream().pipeThrough(new CompressionStream("deflate"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** `pixels`, `width` × `height` bytes row by row, as a grey PNG. */
export async function greyPng(pixels: Uint8Array, width: number, height: number): Promise<Blob> {
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  header.set([8, 0, 0, 0, 0], 8); // bit depth 8, colour type 0 (grey), deflate, adaptive filters, no interlace
  const rows = new Uint8Array((width + 1) * height); // each row: filter type 0 (none), then its bytes
  for (let y = 0; y < height; y++) rows.set(pixels.subarray(y * width, (y + 1) * width), y * (width + 1) + 1);
  const parts = [chunk("IHDR", header), chunk("IDAT", await deflate(rows)), chunk("IEND", new Uint8Array())];
  return new Blob(
    [new Uint8Array(SIGNATURE), ...parts].map((p) => p as BlobPart),
    { type: "image/png" },
  );
}
