/**
 * A Redis Streams consumer-group reader with the at-least-once discipline the ingestor and the registry
 * share: entries are read, handled, and only then acknowledged AND deleted in one MULTI (so a stream holds
 * only what has not been processed yet and stays bounded). A failed batch is not acknowledged; the reader
 * then re-reads its own pending entries (id `0`) before new ones (`>`). Entries left pending by a consumer
 * that died are taken over with XAUTOCLAIM once they have been idle for long enough.
 *
 * Blocking reads use a dedicated connection (`blocking`), so a BLOCK never delays other commands.
 */
import type { Redis } from 'ioredis';
import { STREAM_FIELDS } from '@kisjobs/protocol';

export interface StreamEntry {
  readonly stream: string;
  readonly id: string;
  /** Null when the entry was deleted while still pending (XREADGROUP answers nil fields for it). */
  readonly fields: Readonly<Record<string, string>> | null;
  /** Read again from the pending list: a retry after a failure, a restart, or a claim from a dead consumer. */
  readonly redelivered: boolean;
}

export interface DeadLetter {
  readonly entry: StreamEntry;
  readonly reason: string;
}

export interface StreamGroupOptions {
  /** Commands (XACK, XDEL, XADD, XAUTOCLAIM, XGROUP). */
  readonly redis: Redis;
  /** A connection of its own for XREADGROUP ... BLOCK. */
  readonly blocking: Redis;
  readonly streams: readonly string[];
  readonly group: string;
  readonly consumer: string;
  /** Entries per stream per read. */
  readonly count: number;
  readonly blockMs: number;
  readonly deadLetterStream: string;
  /** Approximate cap of the dead-letter stream (MAXLEN ~). */
  readonly deadLetterMaxLen?: number;
}

type RawEntry = [id: string, fields: string[] | null];
type RawRead = [stream: string, entries: RawEntry[]][] | null;

function toFields(flat: readonly string[] | null): Record<string, string> | null {
  if (flat === null) return null;
  const fields: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) fields[String(flat[i])] = String(flat[i + 1]);
  return fields;
}

function isNoGroup(error: unknown): boolean {
  return error instanceof Error && error.message.includes('NOGROUP');
}

export class StreamGroup {
  readonly #o: StreamGroupOptions;

  constructor(options: StreamGroupOptions) {
    this.#o = options;
  }

  get streams(): readonly string[] {
    return this.#o.streams;
  }

  /**
   * Creates the group on every stream (MKSTREAM), from the start of the stream so that entries written
   * before any scheduler ever ran are processed too. An existing group is left as it is.
   */
  async ensureGroups(): Promise<void> {
    for (const stream of this.#o.streams) {
      try {
        await this.#o.redis.xgroup('CREATE', stream, this.#o.group, '0', 'MKSTREAM');
      } catch (error) {
        if (!(error instanceof Error && error.message.includes('BUSYGROUP'))) throw error;
      }
    }
  }

  /** This consumer's own pending entries (delivered before, never acknowledged), oldest first. */
  readPending(): Promise<StreamEntry[]> {
    return this.#read(
      this.#o.redis,
      this.#o.streams.map(() => '0'),
      [],
    );
  }

  /** New entries, waiting up to `blockMs` for some. */
  readNew(): Promise<StreamEntry[]> {
    return this.#read(
      this.#o.blocking,
      this.#o.streams.map(() => '>'),
      ['BLOCK', String(this.#o.blockMs)],
    );
  }

  /**
   * Takes over entries that other consumers left pending for at least `minIdleMs` (they crashed, or were
   * stopped mid-batch). They become this consumer's pending entries: read them with `readPending`.
   */
  async claimIdle(minIdleMs: number, maxEntries = 10_000): Promise<number> {
    let claimed = 0;
    for (const stream of this.#o.streams) {
      let cursor = '0-0';
      do {
        const reply = (await this.#o.redis.call(
          'XAUTOCLAIM',
          stream,
          this.#o.group,
          this.#o.consumer,
          String(minIdleMs),
          cursor,
          'COUNT',
          String(this.#o.count),
          'JUSTID',
        )) as [string, string[], string[]?];
        cursor = reply[0];
        claimed += reply[1].length;
      } while (cursor !== '0-0' && claimed < maxEntries);
    }
    return claimed;
  }

  /**
   * Deletes consumers of the group (other than this one) that hold no pending entries and have been idle
   * for `idleMs`: replicas that are gone, which would otherwise pile up in XINFO CONSUMERS.
   */
  async pruneConsumers(idleMs: number): Promise<number> {
    let pruned = 0;
    for (const stream of this.#o.streams) {
      const consumers = (await this.#o.redis.call('XINFO', 'CONSUMERS', stream, this.#o.group)) as unknown[];
      for (const flat of consumers) {
        if (!Array.isArray(flat)) continue;
        const info = new Map<string, unknown>();
        for (let i = 0; i + 1 < flat.length; i += 2) info.set(String(flat[i]), flat[i + 1]);
        const name = String(info.get('name'));
        if (
          name === this.#o.consumer ||
          Number(info.get('pending')) !== 0 ||
          Number(info.get('idle')) < idleMs
        ) {
          continue;
        }
        await this.#o.redis.xgroup('DELCONSUMER', stream, this.#o.group, name);
        pruned += 1;
      }
    }
    return pruned;
  }

  /**
   * After the batch is committed: dead letters are appended, and every entry of the batch (dead letters
   * included) is acknowledged and deleted, atomically.
   */
  async settle(entries: readonly StreamEntry[], deadLetters: readonly DeadLetter[] = []): Promise<void> {
    if (entries.length === 0 && deadLetters.length === 0) return;
    const o = this.#o;
    const multi = o.redis.multi();
    for (const { entry, reason } of deadLetters) {
      multi.xadd(
        o.deadLetterStream,
        'MAXLEN',
        '~',
        String(o.deadLetterMaxLen ?? 100_000),
        '*',
        'stream',
        entry.stream,
        'id',
        entry.id,
        'group',
        o.group,
        STREAM_FIELDS.kind,
        entry.fields?.[STREAM_FIELDS.kind] ?? '',
        STREAM_FIELDS.payload,
        entry.fields?.[STREAM_FIELDS.payload] ?? '',
        'reason',
        reason.slice(0, 2_000),
      );
    }
    const byStream = new Map<string, string[]>();
    for (const entry of [...entries, ...deadLetters.map((d) => d.entry)]) {
      const ids = byStream.get(entry.stream) ?? [];
      ids.push(entry.id);
      byStream.set(entry.stream, ids);
    }
    for (const [stream, ids] of byStream) {
      const unique = [...new Set(ids)];
      multi.xack(stream, o.group, ...unique);
      multi.xdel(stream, ...unique);
    }
    const results = await multi.exec();
    const failed = (results ?? []).find(([error]) => error !== null);
    if (results === null || failed !== undefined) {
      throw failed?.[0] ?? new Error('MULTI to settle stream entries was discarded');
    }
  }

  async #read(connection: Redis, ids: readonly string[], block: readonly string[]): Promise<StreamEntry[]> {
    const o = this.#o;
    const redelivered = ids[0] !== '>';
    let reply: RawRead;
    try {
      reply = (await connection.call(
        'XREADGROUP',
        'GROUP',
        o.group,
        o.consumer,
        'COUNT',
        String(o.count),
        ...block,
        'STREAMS',
        ...o.streams,
        ...ids,
      )) as RawRead;
    } catch (error) {
      // The group vanished (Redis lost its data, FLUSHALL): create it again and read on.
      if (!isNoGroup(error)) throw error;
      await this.ensureGroups();
      return [];
    }
    const entries: StreamEntry[] = [];
    for (const [stream, raw] of reply ?? []) {
      for (const [id, flat] of raw) entries.push({ stream, id, fields: toFields(flat), redelivered });
    }
    return entries;
  }
}
