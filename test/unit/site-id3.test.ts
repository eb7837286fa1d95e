// The site reads PutMetadata payloads from hls.js's raw ID3 samples: its PRIV reader must agree
// with the tags the local IVS writes (ID3v2.4, syncsafe sizes — frames over 127 bytes included).
import { describe, expect, it } from '@jest/globals';
import { buildPrivTag } from '../../local/ivs/id3.ts';
import { privFrames } from '../../site/src/lib/player/id3.ts';

const utf8 = new TextEncoder();

describe('site ID3 PRIV reader', () => {
  it.each([
    ['a short payload', '{"v":1}'],
    ['a payload past 127 bytes (syncsafe sizes)', JSON.stringify({ q: 'x'.repeat(300) })],
    ['the 1024-byte maximum in multi-byte UTF-8', '猫'.repeat(341) + 'x'],
  ])('reads %s byte-identical with its owner', (_name, payload) => {
    const frames = privFrames(buildPrivTag(utf8.encode(payload)));
    expect(frames).toHaveLength(1);
    expect(frames[0]!.owner).toBe('metadata.live-video.net');
    expect(new TextDecoder().decode(frames[0]!.data)).toBe(payload);
  });

  it('reads tags back to back, and ignores what is not an ID3 tag', () => {
    const two = Buffer.concat([
      buildPrivTag(utf8.encode('one')),
      buildPrivTag(utf8.encode('two'), 'someone.else'),
    ]);
    expect(privFrames(two).map((f) => [f.owner, Buffer.from(f.data).toString()])).toEqual([
      ['metadata.live-video.net', 'one'],
      ['someone.else', 'two'],
    ]);
    expect(privFrames(new Uint8Array([1, 2, 3]))).toEqual([]);
  });
});
