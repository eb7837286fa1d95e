// The RTMP publishing session at the byte level, with a hand-written publisher: the key is checked
// at publish, nothing reaches the FLV side before an accepted publish, chunk headers of every type
// (deltas, extended timestamps, interleaved chunk streams, a larger chunk size) give FLV tags with
// the right times, and the FLV header says which tracks come. The ingest tests push real ffmpeg
// publishers through the same code.
import { describe, expect, it } from '@jest/globals';
import {
  Amf0Reader,
  amf0,
  encodeMessage,
  RtmpProtocolError,
  RtmpPublishSession,
  type AmfValue,
} from '../../local/ivs/rtmp.ts';

const KEY = 'sk_us-east-1_0123456789abcdefghijABCDEFGHIJ';

interface Heard {
  sent: Buffer[];
  refused: string[];
  streams: { audio: boolean; video: boolean }[];
  flv: Buffer[];
  unpublished: number;
}

function session(key = KEY) {
  const heard: Heard = { sent: [], refused: [], streams: [], flv: [], unpublished: 0 };
  const s = new RtmpPublishSession({
    send: (b) => heard.sent.push(b),
    authorize: ({ streamName }) =>
      streamName === key
        ? { ok: true }
        : { ok: false, code: 'NetStream.Publish.BadName', description: 'wrong stream key' },
    refused: (reason) => heard.refused.push(reason),
    stream: (tracks) => heard.streams.push(tracks),
    flv: (b) => heard.flv.push(b),
    unpublished: () => heard.unpublished++,
  });
  return { s, heard };
}

const handshake = () => Buffer.concat([Buffer.from([3]), Buffer.alloc(1536, 7), Buffer.alloc(1536, 9)]);
const command = (...values: AmfValue[]) =>
  encodeMessage(3, { type: 20, streamId: 0, payload: amf0(...values) }, 128);
const onStream = (...values: AmfValue[]) =>
  encodeMessage(4, { type: 20, streamId: 1, payload: amf0(...values) }, 128);

/** connect, createStream and publish with `key`, as ffmpeg's and OBS's publishers send them. */
function upToPublish(key: string): Buffer {
  return Buffer.concat([
    handshake(),
    command('connect', 1, {
      app: 'live',
      type: 'nonprivate',
      flashVer: 'FMLE/3.0',
      tcUrl: 'rtmp://127.0.0.1/live',
    }),
    command('releaseStream', 2, null, key),
    command('FCPublish', 3, null, key),
    command('createStream', 4, null),
    onStream('publish', 5, null, key, 'live'),
  ]);
}

/** The AMF0 commands in what the session sent (chunk size 4096, one chunk each). */
function commandsSent(heard: Heard): AmfValue[][] {
  const bytes = Buffer.concat(heard.sent).subarray(1 + 1536 * 2);
  const out: AmfValue[][] = [];
  for (let at = 0; at < bytes.length;) {
    const length = bytes.readUIntBE(at + 4, 3);
    const type = bytes[at + 7]!;
    const payload = bytes.subarray(at + 12, at + 12 + length);
    if (type === 20) {
      const r = new Amf0Reader(payload);
      const values: AmfValue[] = [];
      while (!r.done) values.push(r.read());
      out.push(values);
    }
    at += 12 + length;
  }
  return out;
}

/** FLV tags back out of the session's FLV bytes: [type, timestamp, data]. */
function flvTags(heard: Heard): { header: Buffer; tags: [number, number, Buffer][] } {
  const all = Buffer.concat(heard.flv);
  const header = all.subarray(0, 13);
  const tags: [number, number, Buffer][] = [];
  for (let at = 13; at < all.length;) {
    const size = all.readUIntBE(at + 1, 3);
    const timestamp = all.readUIntBE(at + 4, 3) + all[at + 7]! * 2 ** 24;
    tags.push([all[at]!, timestamp, all.subarray(at + 11, at + 11 + size)]);
    expect(all.readUInt32BE(at + 11 + size)).toBe(11 + size);
    at += 15 + size;
  }
  return { header, tags };
}

describe('AMF0', () => {
  it('reads back what it writes, and refuses values that run past their message', () => {
    const values: AmfValue[] = [
      'publish',
      5,
      null,
      { app: 'live', n: 1.5, ok: true, nested: { x: 'é' } },
      undefined,
    ];
    const r = new Amf0Reader(amf0(...values));
    const back: AmfValue[] = [];
    while (!r.done) back.push(r.read());
    expect(JSON.parse(JSON.stringify(back))).toEqual(JSON.parse(JSON.stringify(values)));
    expect(() => new Amf0Reader(amf0('publish').subarray(0, 5)).read()).toThrow(RtmpProtocolError);
  });
});

describe('RtmpPublishSession', () => {
  it('refuses a wrong key with an error status, and takes nothing after it', () => {
    const { s, heard } = session();
    s.push(upToPublish('local'));
    expect(heard.refused).toEqual(['wrong stream key']);
    const status = commandsSent(heard).find((c) => c[0] === 'onStatus')!;
    expect(status[3]).toMatchObject({ level: 'error', code: 'NetStream.Publish.BadName' });
    // The connect and createStream answers a publisher needs before it says publish.
    const names = commandsSent(heard).map((c) => c[0]);
    expect(names).toEqual(['_result', '_result', 'onFCPublish', '_result', 'onStatus']);
    s.push(encodeMessage(6, { type: 9, streamId: 1, payload: Buffer.from([0x17, 0, 0, 0, 0]) }, 128));
    expect(heard.flv).toEqual([]);
    expect(heard.streams).toEqual([]);
  });

  it('ignores media before an accepted publish', () => {
    const { s, heard } = session();
    s.push(Buffer.concat([handshake(), command('connect', 1, { app: 'live' })]));
    s.push(encodeMessage(6, { type: 9, streamId: 1, payload: Buffer.from([0x17, 1]) }, 128));
    expect(heard.flv).toEqual([]);
  });

  it('accepts the key, reads the tracks from onMetaData, and turns every chunk header type into FLV times', () => {
    const { s, heard } = session();
    s.push(upToPublish(KEY));
    expect(heard.refused).toEqual([]);
    expect(commandsSent(heard).at(-1)![3]).toMatchObject({
      level: 'status',
      code: 'NetStream.Publish.Start',
    });

    // The publisher raises its chunk size, sends video-only metadata, then video frames.
    const setChunkSize = Buffer.alloc(4);
    setChunkSize.writeUInt32BE(4096);
    const metadata = amf0('@setDataFrame', 'onMetaData', { width: 320, videocodecid: 7 });
    const frame = (n: number) => Buffer.alloc(300 + n, n); // > 128 bytes: several chunks at 128, one at 4096
    const fmt1 = (csid: number, delta: number, payload: Buffer) => {
      const h = Buffer.alloc(8);
      h[0] = 0x40 | csid;
      h.writeUIntBE(delta, 1, 3);
      h.writeUIntBE(payload.length, 4, 3);
      h[7] = 9;
      return Buffer.concat([h, payload]);
    };
    const fmt2 = (csid: number, delta: number, payload: Buffer) => {
      const h = Buffer.alloc(4);
      h[0] = 0x80 | csid;
      h.writeUIntBE(delta, 1, 3);
      return Buffer.concat([h, payload]);
    };
    const fmt3 = (csid: number, payload: Buffer) => Buffer.concat([Buffer.from([0xc0 | csid]), payload]);
    const bytes = Buffer.concat([
      encodeMessage(2, { type: 1, streamId: 0, payload: setChunkSize }, 128),
      encodeMessage(5, { type: 18, streamId: 1, payload: metadata }, 4096),
      encodeMessage(6, { type: 9, streamId: 1, timestamp: 1000, payload: frame(1) }, 4096), // fmt 0: 1000
      fmt1(6, 40, frame(2)), // 1040
      fmt2(6, 40, frame(2).subarray(0, 302)), // same length and type: 1080
      fmt3(6, frame(2).subarray(0, 302)), // same delta again: 1120
    ]);
    // Byte by byte: the session must wait for whole chunks, however TCP splits them.
    for (let i = 0; i < bytes.length; i += 7) s.push(bytes.subarray(i, i + 7));

    expect(heard.streams).toEqual([{ audio: false, video: true }]);
    const { header, tags } = flvTags(heard);
    expect([...header]).toEqual([0x46, 0x4c, 0x56, 1, 0x01, 0, 0, 0, 9, 0, 0, 0, 0]);
    expect(tags.map(([type, ts]) => [type, ts])).toEqual([
      [18, 0],
      [9, 1000],
      [9, 1040],
      [9, 1080],
      [9, 1120],
    ]);
    // @setDataFrame is stripped, as ffmpeg's own RTMP reader does: the script tag starts with onMetaData.
    expect(new Amf0Reader(tags[0]![2]).read()).toBe('onMetaData');
    expect(tags[1]![2].equals(frame(1))).toBe(true);
  });

  it('handles extended timestamps and interleaved chunk streams (audio and video at 128-byte chunks)', () => {
    const { s, heard } = session();
    s.push(upToPublish(KEY));
    const late = 0x01234567; // past 0xFFFFFF: an extended timestamp, also on continuation chunks
    const audio = encodeMessage(
      4,
      { type: 8, streamId: 1, timestamp: late, payload: Buffer.alloc(300, 0xaf) },
      128,
    );
    const video = encodeMessage(
      6,
      { type: 9, streamId: 1, timestamp: late, payload: Buffer.alloc(300, 0x17) },
      128,
    );
    // Split each message at its chunk boundaries and interleave them, as a muxer may.
    const chunksOf = (m: Buffer) => [
      m.subarray(0, 16 + 128),
      m.subarray(144, 144 + 5 + 128),
      m.subarray(277),
    ];
    const [a, v] = [chunksOf(audio), chunksOf(video)];
    s.push(Buffer.concat([a[0]!, v[0]!, a[1]!, v[1]!, a[2]!, v[2]!]));
    expect(heard.streams).toEqual([{ audio: true, video: true }]); // no metadata: both kinds seen
    const { header, tags } = flvTags(heard);
    expect(header[4]).toBe(0x05);
    expect(tags.map(([type, ts, data]) => [type, ts, data.length, data[0]])).toEqual([
      [8, late, 300, 0xaf],
      [9, late, 300, 0x17],
    ]);
  });

  it('says when the publisher stops, and refuses what is not RTMP', () => {
    const { s, heard } = session();
    s.push(upToPublish(KEY));
    s.push(onStream('FCUnpublish', 6, null, KEY));
    expect(heard.unpublished).toBe(1);
    const http = session();
    expect(() => http.s.push(Buffer.from(`GET / HTTP/1.1\r\nHost: x\r\n\r\n${' '.repeat(1600)}`))).toThrow(
      /not RTMP/,
    );
    // A command larger than any publisher sends before publish.
    const big = session();
    big.s.push(handshake());
    expect(() =>
      big.s.push(command('connect', 1, { app: 'x'.repeat(40_000), tcUrl: 'y'.repeat(40_000) })),
    ).toThrow(/before publish/);
  });
});
