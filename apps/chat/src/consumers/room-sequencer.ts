/**
 * Keeps one connection's view of a room gapless and in `seq` order. Pub/sub is at-most-once and
 * two nodes may publish their changes in a different order than they committed them, so a change
 * that arrives ahead of a missing one is held back; if the missing one does not show up soon, it
 * is read from storage. The common case (the next seq) costs one comparison.
 */
import { CloseCode } from '@switchboard/protocol';
import type { Connection, LayerMessage } from '@switchboard/server';
import { seqOf } from '../domain/chat-rooms.ts';

/** How long a gap may stay open before storage fills it. */
const GAP_WAIT_MS = 150;
/** Changes held for one connection before it is told to resume instead. */
const MAX_HELD = 1000;

export interface SequencerState {
  /** Highest seq this client has been sent, with nothing missing below it. */
  lastSeq: number;
  held: Map<number, LayerMessage>;
  gapTimer: NodeJS.Timeout | undefined;
  filling: boolean;
}

export type FillGap = (afterSeq: number) => AsyncIterable<LayerMessage>;

export function newSequencer(lastSeq: number): SequencerState {
  return { lastSeq, held: new Map(), gapTimer: undefined, filling: false };
}

/**
 * The forward guard for room changes: true means "send the shared frame now". Anything else is
 * either a duplicate (dropped) or held and sent later, in order, by `release`.
 */
export function admitInOrder<S extends { seq: SequencerState }>(
  conn: Connection<S>,
  event: LayerMessage,
  fill: FillGap,
): boolean {
  const seq = seqOf(event);
  if (seq === undefined) return true;
  const state = conn.state.seq;
  if (seq <= state.lastSeq) return false;
  if (seq === state.lastSeq + 1 && !state.filling) {
    state.lastSeq = seq;
    if (state.held.size > 0) queueMicrotask(() => release(conn, fill));
    return true;
  }
  if (state.held.size >= MAX_HELD) {
    conn.close(CloseCode.TRY_AGAIN_LATER, 'fell behind: reconnect with after_seq');
    return false;
  }
  state.held.set(seq, event);
  state.gapTimer ??= setTimeout(() => void fillFromStorage(conn, fill), GAP_WAIT_MS);
  return false;
}

/** Sends held changes that are next in line. */
function release<S extends { seq: SequencerState }>(conn: Connection<S>, fill: FillGap): void {
  const state = conn.state.seq;
  for (let next = state.held.get(state.lastSeq + 1); next; next = state.held.get(state.lastSeq + 1)) {
    state.held.delete(state.lastSeq + 1);
    state.lastSeq++;
    conn.send(next);
  }
  if (state.held.size === 0 && state.gapTimer) {
    clearTimeout(state.gapTimer);
    state.gapTimer = undefined;
  } else if (state.held.size > 0) {
    state.gapTimer ??= setTimeout(() => void fillFromStorage(conn, fill), GAP_WAIT_MS);
  }
}

async function fillFromStorage<S extends { seq: SequencerState }>(conn: Connection<S>, fill: FillGap) {
  const state = conn.state.seq;
  state.gapTimer = undefined;
  if (state.filling) return;
  state.filling = true;
  try {
    for await (const change of fill(state.lastSeq)) {
      const seq = seqOf(change)!;
      if (seq !== state.lastSeq + 1) break;
      state.held.delete(seq);
      state.lastSeq = seq;
      conn.send(change);
    }
    for (const seq of state.held.keys()) if (seq <= state.lastSeq) state.held.delete(seq);
  } catch (error) {
    conn.log.warn({ err: error }, 'could not fill a gap in the room stream; asking the client to resume');
    conn.close(CloseCode.TRY_AGAIN_LATER, 'missed changes: reconnect with after_seq');
  } finally {
    state.filling = false;
  }
  release(conn, fill);
}

/**
 * Reads whatever this connection may have missed from storage now, without waiting for the next
 * live change to reveal a gap: after the layer was down, a quiet room would otherwise stay stale.
 */
export function catchUp<S extends { seq: SequencerState }>(conn: Connection<S>, fill: FillGap): void {
  if (!conn.state.seq.filling) void fillFromStorage(conn, fill);
}

export function stopSequencer(state: SequencerState): void {
  if (state.gapTimer) clearTimeout(state.gapTimer);
  state.held.clear();
}
