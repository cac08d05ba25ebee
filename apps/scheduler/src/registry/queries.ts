/** Registry reads for the dispatcher (`onlineExecutors`) and the API (`listExecutors`). */
import type { Redis } from 'ioredis';
import type { Keyspace } from '@kisjobs/protocol';
import type { PrismaClient } from '@kisjobs/db';
import { decodeHeartbeat, decodeRecord, drainingKey, mgetChunked, readHeartbeats } from './live-state.js';
import type { ExecutorInfo, OnlineExecutor } from './types.js';

/**
 * Members of the group with a live heartbeat, minus draining ones (the operator's flag in Redis, or the
 * executor's own heartbeat flag), sorted by instance id. One SMEMBERS, one MGET, one SMISMEMBER.
 */
export async function onlineExecutors(redis: Redis, ks: Keyspace, group: string): Promise<OnlineExecutor[]> {
  const ids = (await redis.smembers(ks.groupMembers(group))).sort();
  if (ids.length === 0) return [];
  const raw = await mgetChunked(
    redis,
    ids.flatMap((id) => [ks.heartbeat(id), ks.executor(id)]),
  );
  const drained = await redis.smismember(drainingKey(ks), ...ids);
  const out: OnlineExecutor[] = [];
  ids.forEach((id, i) => {
    const heartbeat = decodeHeartbeat(raw[2 * i]);
    const record = decodeRecord(raw[2 * i + 1]);
    if (heartbeat === undefined || record === undefined || heartbeat.draining || drained[i] === 1) return;
    if (record.group !== group) return;
    out.push({
      instanceId: id,
      group,
      host: record.host,
      pid: record.pid,
      version: record.version,
      functions: record.functions,
      connectorTypes: record.connectorTypes,
      concurrency: record.concurrency,
      registeredAt: Date.parse(record.startedAt),
      activeRuns: heartbeat.activeRuns,
      load: heartbeat.load,
      runIds: heartbeat.runIds,
      draining: false,
    });
  });
  return out;
}

export async function listExecutors(
  prisma: PrismaClient,
  redis: Redis,
  ks: Keyspace,
  filter: { readonly group?: string; readonly includeRemoved?: boolean } = {},
): Promise<ExecutorInfo[]> {
  const rows = await prisma.executor.findMany({
    where: {
      ...(filter.group === undefined ? {} : { group: { name: filter.group } }),
      ...(filter.includeRemoved === true ? {} : { status: { not: 'removed' } }),
    },
    include: { group: { select: { name: true } } },
    orderBy: [{ groupId: 'asc' }, { instanceId: 'asc' }],
  });
  if (rows.length === 0) return [];
  const ids = rows.map((row) => row.instanceId);
  const beats = await readHeartbeats(redis, ks, ids);
  const drained = await redis.smismember(drainingKey(ks), ...ids);
  return rows.map((row, i) => {
    const heartbeat = beats.get(row.instanceId);
    return {
      id: row.id,
      instanceId: row.instanceId,
      group: row.group.name,
      host: row.host,
      pid: row.pid,
      version: row.version,
      functions: row.functions,
      concurrency: row.concurrency,
      status: row.status,
      registeredAt: row.registeredAt,
      lastHeartbeatAt: row.lastHeartbeatAt,
      offlineAt: row.offlineAt,
      live: heartbeat !== undefined,
      draining: row.status === 'draining' || drained[i] === 1 || heartbeat?.draining === true,
      heartbeat: heartbeat ?? null,
    };
  });
}
