/**
 * Each node's view of the awareness states of the documents its sockets have open.
 *
 * The registry joins a document's group with a channel of its own, so it sees every awareness
 * update of the document once per node, whichever node its client is on. It answers a newcomer's
 * "who is here" (the states sent on connect and on query-awareness), tells which connection owns a
 * client id (so one socket cannot overwrite another's cursor), and expires states that were not
 * refreshed within EXPIRE_MS — a provider refreshes its state every 15 s, so only a client whose
 * node died (SIGKILL: no goodbye was ever published) goes quiet that long. Expired states are
 * removed for this node's sockets with a "left" entry, as y-protocols' own timeout would.
 *
 * An expiry is also the one sign this node gets that another node died, perhaps between storing
 * an update and publishing it: `onExpired` lets the consumer re-send the stored document to the
 * sockets that may have missed it.
 */
import { type ChannelLayer, type LayerMessage, layerMessageBytes } from '@switchboard/server';
import { type AwarenessEntry, decodeAwareness, encodeAwareness, LEFT } from './awareness-states.ts';
import { documentGroup } from './document-names.ts';
import { awarenessMessage, decodeClientMessage } from './yjs-messages.ts';

/** y-protocols' outdatedTimeout. */
export const EXPIRE_MS = 30_000;
const SWEEP_MS = 5_000;
/** Layer message type of an awareness update on a document's group. */
export const AWARENESS_EVENT = 'doc.awareness';

interface KnownState extends AwarenessEntry {
  /** The channel of the connection that sent it. */
  owner: string;
  seenAt: number;
}

/** What the registry needs of a local socket: where to write removals. */
export interface AwarenessPeer {
  sendBinary(data: Uint8Array): void;
}

interface OpenDocument {
  channel: string;
  peers: Set<AwarenessPeer>;
  states: Map<number, KnownState>;
}

export class AwarenessRegistry {
  private readonly documents = new Map<number, OpenDocument>();
  private readonly sweeper: NodeJS.Timeout;
  private onExpired: (documentId: number) => void = () => {};

  constructor(
    private readonly layer: ChannelLayer,
    private readonly now: () => number = Date.now,
  ) {
    this.sweeper = setInterval(() => this.expire(), SWEEP_MS);
    this.sweeper.unref();
  }

  /** Sets who hears of expiries (the consumer, built after the registry). */
  setOnExpired(onExpired: (documentId: number) => void): void {
    this.onExpired = onExpired;
  }

  /** A local socket opened the document: from now on its states are tracked. */
  async join(documentId: number, peer: AwarenessPeer): Promise<void> {
    let open = this.documents.get(documentId);
    if (!open) {
      const channel = this.layer.addChannel((message) => this.observe(documentId, message));
      open = { channel, peers: new Set(), states: new Map() };
      this.documents.set(documentId, open);
      await this.layer.groupAdd(documentGroup(documentId), channel);
    }
    open.peers.add(peer);
  }

  leave(documentId: number, peer: AwarenessPeer): void {
    const open = this.documents.get(documentId);
    if (!open) return;
    open.peers.delete(peer);
    if (open.peers.size > 0) return;
    this.documents.delete(documentId);
    this.layer.removeChannel(open.channel);
  }

  /** Every live state of the document, as one awareness update (undefined when there is none). */
  snapshot(documentId: number): Uint8Array | undefined {
    const states = [...(this.documents.get(documentId)?.states.values() ?? [])];
    return states.length === 0 ? undefined : encodeAwareness(states);
  }

  /** The channel that owns `clientId` in the document, if anyone does. */
  ownerOf(documentId: number, clientId: number): string | undefined {
    return this.documents.get(documentId)?.states.get(clientId)?.owner;
  }

  /** The last clock seen for `clientId`, so a goodbye can be newer than it. */
  clockOf(documentId: number, clientId: number): number | undefined {
    return this.documents.get(documentId)?.states.get(clientId)?.clock;
  }

  close(): void {
    clearInterval(this.sweeper);
    for (const open of this.documents.values()) this.layer.removeChannel(open.channel);
    this.documents.clear();
  }

  private observe(documentId: number, message: LayerMessage): void {
    if (message.type !== AWARENESS_EVENT) return;
    const open = this.documents.get(documentId);
    const bytes = layerMessageBytes(message);
    if (!open || !bytes || typeof message.origin !== 'string') return;
    const decoded = decodeClientMessage(bytes);
    if (decoded.kind !== 'awareness') return;
    for (const entry of decodeAwareness(decoded.update)) {
      const known = open.states.get(entry.clientId);
      if (known && known.clock > entry.clock) continue;
      if (entry.state === LEFT) open.states.delete(entry.clientId);
      else open.states.set(entry.clientId, { ...entry, owner: message.origin, seenAt: this.now() });
    }
  }

  /** Drops states not refreshed in time and tells this node's sockets they are gone. */
  expire(): void {
    const deadline = this.now() - EXPIRE_MS;
    for (const [documentId, open] of this.documents) {
      const gone: AwarenessEntry[] = [];
      for (const [clientId, state] of open.states) {
        if (state.seenAt >= deadline) continue;
        open.states.delete(clientId);
        gone.push({ clientId, clock: state.clock + 1, state: LEFT });
      }
      if (gone.length === 0) continue;
      const frame = awarenessMessage(encodeAwareness(gone));
      for (const peer of open.peers) peer.sendBinary(frame);
      this.onExpired(documentId);
    }
  }
}
