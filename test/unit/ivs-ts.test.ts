import { describe, expect, it } from '@jest/globals';
import { getId3Frames } from '@svta/cml-id3';
import { buildPrivTag, IVS_PRIV_OWNER } from '../../local/ivs/id3.ts';
import {
  buildMetadataPes,
  buildPmtSection,
  crc32Mpeg2,
  packetizePes,
  PacketAligner,
  parsePmt,
  psiPacket,
  readHeader,
  readTimestamp,
  withMetadataStream,
  writeTimestamp,
} from '../../local/ivs/ts.ts';
import { demux, readPrivFrames } from '../ivs/ts-reader.ts';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('CRC-32/MPEG-2', () => {
  it("matches the CRC of ffmpeg's PAT and the check value of the catalogue", () => {
    // ffmpeg's PAT section (program 1 -> PMT PID 0x1000) ends with CRC 2A B1 04 B2.
    expect(crc32Mpeg2(hex('00 B0 0D 00 01 C1 00 00 00 01 F0 00'))).toBe(0x2ab104b2);
    expect(crc32Mpeg2(Buffer.from('123456789'))).toBe(0x0376e6e7);
  });
});

describe('timestamps', () => {
  it.each([0, 1, 3000, 2 ** 32 - 1, 2 ** 32, 2 ** 33 - 1])(
    'round-trips %d through the 33-bit PTS field',
    (value) => {
      const bytes = Buffer.alloc(5);
      writeTimestamp(bytes, 0, 0x2, value);
      expect(readTimestamp(bytes, 0)).toBe(value);
      expect(bytes[0]! >> 4).toBe(0x2);
      // marker bits
      expect(bytes[0]! & 1).toBe(1);
      expect(bytes[2]! & 1).toBe(1);
      expect(bytes[4]! & 1).toBe(1);
    },
  );

  it('wraps values past 2^33', () => {
    const bytes = Buffer.alloc(5);
    writeTimestamp(bytes, 0, 0x2, 2 ** 33 + 5);
    expect(readTimestamp(bytes, 0)).toBe(5);
  });
});

describe('ID3v2.4 PRIV tag', () => {
  it('is read back by @svta/cml-id3 (the parser hls.js uses) for payloads of every size up to 1 KB', () => {
    for (const size of [1, 127, 128, 129, 300, 1024]) {
      const payload = Buffer.from('é'.repeat(size / 2) + 'x'.repeat(size % 2));
      const tag = buildPrivTag(payload);
      const frames = getId3Frames(tag);
      expect(frames).toHaveLength(1);
      expect(frames[0]!.key).toBe('PRIV');
      expect(frames[0]!.info).toBe(IVS_PRIV_OWNER);
      expect(Buffer.from(frames[0]!.data as ArrayBuffer)).toEqual(payload);
      expect(readPrivFrames(tag)).toEqual([{ owner: IVS_PRIV_OWNER, data: payload, version: 4 }]);
    }
  });

  it('has the exact header layout: ID3 04 00 00 <syncsafe size> PRIV <syncsafe size> 00 00 owner 00 data', () => {
    const tag = buildPrivTag(Buffer.from('hi'));
    // frame = 10 + owner(23) + 1 + 2 = 36 = 0x24
    expect(tag.subarray(0, 20)).toEqual(hex('49443304 0000 00000024 50524956 0000001A 0000'));
    expect(tag.subarray(20).toString('latin1')).toBe('metadata.live-video.net\0hi');
    // 200-byte body: syncsafe 0x01 0x48, not 0x00 0xC8
    expect(buildPrivTag(Buffer.alloc(176, 0x61)).subarray(14, 18)).toEqual(hex('00000148'));
  });
});

describe('PMT with the IVS metadata declarations', () => {
  // ffmpeg's PMT: program 1, PCR PID 0x100, H.264 on 0x100, AAC (ADTS) on 0x101.
  const ffmpegPmt = hex('02 B0 17 00 01 C1 00 00 E1 00 F0 00 1B E1 00 F0 00 0F E1 01 F0 00');

  it('adds the metadata_pointer_descriptor and a stream_type 0x15 entry on PID 0x102, byte for byte as IVS', () => {
    const section = Buffer.concat([ffmpegPmt, Buffer.alloc(4)]);
    section.writeUInt32BE(crc32Mpeg2(section, 0, section.length - 4), section.length - 4);
    const pmt = parsePmt(section)!;
    expect(pmt.streams.map((s) => [s.streamType, s.pid])).toEqual([
      [0x1b, 0x100],
      [0x0f, 0x101],
    ]);
    const out = buildPmtSection(withMetadataStream(pmt));
    const programInfo = hex('25 0F FF FF 49 44 33 20 FF 49 44 33 20 00 1F 00 01');
    const esEntry = hex('15 E1 02 F0 0F 26 0D FF FF 49 44 33 20 FF 49 44 33 20 00 0F');
    expect(out.subarray(10, 12)).toEqual(hex('F0 11'));
    expect(out.subarray(12, 12 + programInfo.length)).toEqual(programInfo);
    expect(out.subarray(out.length - 4 - esEntry.length, out.length - 4)).toEqual(esEntry);
    // section_length covers everything after itself; the CRC checks out (a CRC over a whole section is 0).
    expect(((out[1]! & 0x0f) << 8) | out[2]!).toBe(out.length - 3);
    expect(crc32Mpeg2(out)).toBe(0);
    const reparsed = parsePmt(out)!;
    expect(reparsed.streams.map((s) => s.pid)).toEqual([0x100, 0x101, 0x102]);
    // The test demuxer sees it too.
    const d = demux(
      Buffer.concat([
        psiPacket(0, hex('00 B0 0D 00 01 C1 00 00 00 01 F0 00 2A B1 04 B2')),
        psiPacket(0x1000, out),
      ]),
    );
    expect(d.streams.find((s) => s.pid === 0x102)?.streamType).toBe(0x15);
  });
});

describe('metadata PES packetizing', () => {
  it.each([1, 100, 169, 170, 171, 353, 354, 355, 1100])(
    'splits a %d-byte tag into whole packets padded with adaptation fields, CC incrementing',
    (tagLength) => {
      const tag = Buffer.alloc(tagLength, 0xab);
      const pes = buildMetadataPes(tag, 123456789);
      expect(pes.subarray(0, 9)).toEqual(
        Buffer.concat([
          hex('000001BD'),
          Buffer.from([(pes.length - 6) >> 8, (pes.length - 6) & 0xff]),
          hex('848005'),
        ]),
      );
      const packets = packetizePes(0x102, pes, 14);
      expect(packets.length).toBe(Math.ceil(pes.length / 184));
      packets.forEach((p, i) => {
        expect(p.length).toBe(188);
        const h = readHeader(p);
        expect(h.pid).toBe(0x102);
        expect(h.payloadUnitStart).toBe(i === 0);
        expect(h.continuityCounter).toBe((14 + i) & 15);
        expect(h.hasAdaptation).toBe(i === packets.length - 1 && pes.length % 184 !== 0);
      });
      const d = demux(Buffer.concat([...packets, ...packetizePes(0x102, pes, (14 + packets.length) & 15)]));
      expect(d.continuityErrors).toEqual([]);
      expect(d.pes).toHaveLength(2);
      expect(d.pes[0]!.pts).toBe(123456789);
      expect(d.pes[0]!.streamId).toBe(0xbd);
      expect(d.pes[0]!.payload).toEqual(tag);
    },
  );
});

describe('PacketAligner', () => {
  it('reassembles packets from arbitrary chunk sizes and resynchronises after garbage', () => {
    const packets = [0, 1, 2].map((n) => psiPacket(0x100 + n, Buffer.from([n])));
    const stream = Buffer.concat([packets[0]!, Buffer.from([1, 2, 3]), packets[1]!, packets[2]!]);
    const aligner = new PacketAligner();
    const seen: number[] = [];
    for (let i = 0; i < stream.length; i += 7)
      aligner.push(stream.subarray(i, i + 7), (p) => seen.push(readHeader(p).pid));
    expect(seen).toEqual([0x100, 0x101, 0x102]);
    expect(aligner.skipped).toBe(3);
  });
});
