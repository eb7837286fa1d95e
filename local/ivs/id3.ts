// ID3v2.4 timed-metadata tags the way Amazon IVS writes them: one PRIV frame whose owner is
// `metadata.live-video.net` and whose data is the raw UTF-8 PutMetadata payload. Written by hand because
// the npm ID3 writers produce v2.3 (plain 32-bit frame sizes), which hls.js reads as syncsafe and so
// corrupts any frame of 128 bytes or more.

export const IVS_PRIV_OWNER = 'metadata.live-video.net';

/** Largest value a 4-byte syncsafe integer holds (7 bits per byte). */
const SYNCSAFE_MAX = 0x0fffffff;

export function writeSyncsafe(target: Buffer, offset: number, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > SYNCSAFE_MAX) {
    throw new RangeError(`syncsafe value out of range: ${value}`);
  }
  target[offset] = (value >>> 21) & 0x7f;
  target[offset + 1] = (value >>> 14) & 0x7f;
  target[offset + 2] = (value >>> 7) & 0x7f;
  target[offset + 3] = value & 0x7f;
}

/** A whole ID3v2.4 tag (10-byte header, no extended header, no footer, no padding) with one PRIV frame. */
export function buildPrivTag(data: Uint8Array, owner: string = IVS_PRIV_OWNER): Buffer {
  // The owner is a Latin-1 string terminated by a zero byte; the data follows untouched.
  const ownerBytes = Buffer.from(owner, 'latin1');
  const frameBodyLength = ownerBytes.length + 1 + data.length;
  const frameLength = 10 + frameBodyLength;
  const tag = Buffer.alloc(10 + frameLength);
  tag.write('ID3', 0, 'latin1');
  tag[3] = 0x04; // version 2.4.0
  tag[4] = 0x00;
  tag[5] = 0x00; // flags: no unsynchronisation, no extended header, not experimental, no footer
  writeSyncsafe(tag, 6, frameLength);
  tag.write('PRIV', 10, 'latin1');
  writeSyncsafe(tag, 14, frameBodyLength); // v2.4 frame sizes are syncsafe too
  // bytes 18..19: frame flags 0
  ownerBytes.copy(tag, 20);
  tag[20 + ownerBytes.length] = 0x00;
  tag.set(data, 21 + ownerBytes.length);
  return tag;
}
