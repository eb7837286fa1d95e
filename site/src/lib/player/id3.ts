// Reads the PRIV frames of ID3v2 tags (what IVS PutMetadata payloads travel in). hls.js hands
// over each tag's raw bytes in FRAG_PARSING_METADATA; this avoids depending on its text track,
// which Chromium can wipe when hls.js creates it (hls.js issue #7691), losing the first cues.

export interface PrivFrame {
  owner: string;
  data: Uint8Array;
}

const syncsafe = (b: Uint8Array, i: number) =>
  (b[i]! << 21) | (b[i + 1]! << 14) | (b[i + 2]! << 7) | b[i + 3]!;
const plain = (b: Uint8Array, i: number) =>
  ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;

export function privFrames(bytes: Uint8Array): PrivFrame[] {
  const frames: PrivFrame[] = [];
  let tag = 0;
  // One sample may hold several tags back to back.
  while (
    tag + 10 <= bytes.length &&
    bytes[tag] === 0x49 &&
    bytes[tag + 1] === 0x44 &&
    bytes[tag + 2] === 0x33
  ) {
    const version = bytes[tag + 3]!;
    const flags = bytes[tag + 5]!;
    const size = syncsafe(bytes, tag + 6);
    const end = Math.min(bytes.length, tag + 10 + size);
    let at = tag + 10;
    if (flags & 0x40) at += version === 4 ? syncsafe(bytes, at) : plain(bytes, at) + 4; // extended header
    while (at + 10 <= end && bytes[at] !== 0) {
      const id = String.fromCharCode(bytes[at]!, bytes[at + 1]!, bytes[at + 2]!, bytes[at + 3]!);
      const frameSize = version === 4 ? syncsafe(bytes, at + 4) : plain(bytes, at + 4);
      const body = bytes.subarray(at + 10, Math.min(end, at + 10 + frameSize));
      if (id === 'PRIV') {
        const zero = body.indexOf(0);
        if (zero >= 0) {
          frames.push({
            owner: String.fromCharCode(...body.subarray(0, zero)),
            data: body.subarray(zero + 1),
          });
        }
      }
      at += 10 + frameSize;
    }
    tag = end;
  }
  return frames;
}
