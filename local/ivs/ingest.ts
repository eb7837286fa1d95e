// The RTMP ingest of one channel: a TCP server on loopback that speaks RTMP to the publisher
// (./rtmp.ts), accepts only the channel's stream key, and pipes the accepted publisher's media, as
// FLV, into the transcoder the channel starts for it. A wrong key is answered as a media server
// answers it (onStatus NetStream.Publish.BadName) and the connection is closed: no ffmpeg runs and
// the stream on air does not change. One publisher at a time, like an IVS channel.
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import type { Writable } from 'node:stream';
import { repeatLimiter } from '../log-limit.ts';
import type { PublishedTracks } from './ffmpeg.ts';
import { RtmpProtocolError, RtmpPublishSession, type PublishDecision } from './rtmp.ts';

/** The transcoder of an accepted publisher, as the channel starts it. */
export interface PublisherFeed {
  input: Writable;
  exited: Promise<void>;
  stop(): Promise<void>;
}

export interface RtmpIngestOptions {
  port: number;
  /** Default 127.0.0.1: the ingest is for this machine's OBS. */
  host?: string;
  streamKey: string;
  /** True while a publisher is on (a second one is refused). */
  busy(): boolean;
  /** Starts the transcoder for an accepted publisher; undefined if that is not possible now. */
  begin(tracks: PublishedTracks): PublisherFeed | undefined;
  log(line: string): void;
  /** How long a connection may take to reach an accepted publish (default 10 s). */
  publishDeadlineMs?: number;
  /** How long a publisher may send nothing before it is dropped (default 10 s). */
  idleMs?: number;
}

export interface RtmpIngest {
  port: number;
  close(): Promise<void>;
}

/** Connections still handshaking or about to publish, at most: the rest are closed at once. */
const MAX_UNPUBLISHED_CONNECTIONS = 8;

/** Compares keys in time independent of where they differ (hashes first: equal lengths). */
function sameKey(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

export function startRtmpIngest(options: RtmpIngestOptions): Promise<RtmpIngest> {
  if (options.streamKey.length < 16)
    throw new RangeError('an RTMP ingest needs a stream key of 16 characters or more');
  const limit = repeatLimiter(options.log);
  const sockets = new Set<Socket>();
  let unpublished = 0;

  const server: Server = createServer((socket) => {
    sockets.add(socket);
    const peer = `${socket.remoteAddress}:${socket.remotePort}`;
    if (unpublished >= MAX_UNPUBLISHED_CONNECTIONS) {
      limit('too many', `RTMP connection from ${peer} closed: ${unpublished} others are still connecting`);
      socket.destroy();
      return;
    }
    unpublished++;
    let counted = true;
    const published = () => {
      if (counted) unpublished--;
      counted = false;
    };
    socket.setNoDelay(true);
    const deadline = setTimeout(() => {
      limit('deadline', `RTMP connection from ${peer} closed: no accepted publish within the deadline`);
      socket.destroy();
    }, options.publishDeadlineMs ?? 10_000);
    let feed: PublisherFeed | undefined;
    let waiting = false;

    const session = new RtmpPublishSession({
      send: (bytes) => {
        if (!socket.destroyed) socket.write(bytes);
      },
      authorize: ({ streamName }): PublishDecision => {
        if (!sameKey(streamName, options.streamKey))
          return { ok: false, code: 'NetStream.Publish.BadName', description: 'wrong stream key' };
        if (options.busy())
          return {
            ok: false,
            code: 'NetStream.Publish.BadName',
            description: 'another publisher is live on this channel',
          };
        return { ok: true };
      },
      refused: (reason) => {
        clearTimeout(deadline);
        limit(`refused ${reason}`, `RTMP publisher from ${peer} refused: ${reason}`);
        socket.end(); // after the error status; a publisher that does not close its side is cut off
        setTimeout(() => socket.destroy(), 1000).unref();
      },
      stream: (tracks) => {
        clearTimeout(deadline);
        published();
        if (!tracks.video) {
          options.log(`RTMP publisher from ${peer} sends no video: the local IVS needs a video track`);
          socket.destroy();
          return;
        }
        feed = options.begin(tracks);
        if (!feed) {
          options.log(`RTMP publisher from ${peer} dropped: another publisher is live`);
          socket.destroy();
          return;
        }
        options.log(
          `RTMP publisher from ${peer} accepted (${tracks.audio ? 'video and audio' : 'video only: silent audio added'})`,
        );
        feed.input.on('error', () => socket.destroy()); // the transcoder died: EPIPE
        void feed.exited.then(() => socket.destroy());
        socket.setTimeout(options.idleMs ?? 10_000, () => {
          options.log(
            `RTMP publisher from ${peer} sent nothing for ${(options.idleMs ?? 10_000) / 1000} s: dropped`,
          );
          socket.destroy();
        });
      },
      flv: (bytes) => {
        if (!feed) return;
        // Back-pressure: a transcoder that falls behind slows the publisher's TCP, not our memory.
        if (!feed.input.write(bytes) && !waiting) {
          waiting = true;
          socket.pause();
          feed.input.once('drain', () => {
            waiting = false;
            socket.resume();
          });
        }
      },
      unpublished: () => {
        void feed?.stop();
        socket.end();
      },
    });

    socket.on('data', (chunk: Buffer) => {
      try {
        session.push(chunk);
      } catch (error) {
        if (!(error instanceof RtmpProtocolError)) throw error;
        limit('protocol', `RTMP connection from ${peer} closed: ${error.message}`);
        socket.destroy();
      }
    });
    socket.on('error', () => {}); // a reset publisher is one that left
    socket.on('close', () => {
      sockets.delete(socket);
      clearTimeout(deadline);
      published();
      session.end();
      if (feed) {
        options.log(`RTMP publisher from ${peer} disconnected`);
        void feed.stop();
      }
    });
  });

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      server.on('error', (error) => options.log(`RTMP ingest: ${error.message}`));
      resolve({
        port: (server.address() as { port: number }).port,
        close: () =>
          new Promise<void>((done) => {
            for (const socket of sockets) socket.destroy();
            limit.flush();
            server.close(() => done());
          }),
      });
    });
  });
}
