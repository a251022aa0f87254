/**
 * `/ws/docs/{room}/{doc}`: a room's collaborative document over the standard y-websocket
 * protocol (see docs/yjs-messages.ts), so a stock `WebsocketProvider` connects with no adapter.
 *
 * - On connect: the member is authorised (4404 unknown room, 4403 not a member), the document is
 *   created if new, the socket joins the document's group and receives the server's sync step 1
 *   (the stored state vector: the provider answers with whatever the server lacks, e.g. offline
 *   edits) and the awareness states known on this node.
 * - Sync step 1 from the client is answered from storage (`Y.diffUpdate`), so any node serves any
 *   document without holding it in memory.
 * - An update is validated, stored (group commit: durable when `append` resolves), and only then
 *   published to the document's group: no editor ever sees an update a crash could lose.
 * - Awareness states are stamped with the connection's user, bounded, coalesced, and removed for
 *   everyone when the socket closes (AwarenessRegistry expires those of a node that died).
 */
import { ErrorCode } from '@switchboard/protocol';
import {
  binaryLayerMessage,
  type Connection,
  defineConsumer,
  type LayerMessage,
  WsError,
} from '@switchboard/server';
import * as Y from 'yjs';
import { AWARENESS_EVENT, type AwarenessRegistry } from '../docs/awareness-registry.ts';
import {
  type AwarenessEntry,
  decodeAwareness,
  encodeAwareness,
  LEFT,
  stamp,
} from '../docs/awareness-states.ts';
import { AwarenessThrottle } from '../docs/awareness-throttle.ts';
import { documentGroup } from '../docs/document-names.ts';
import { DOCUMENT_DELETED, type RoomDocuments } from '../docs/room-documents.ts';
import {
  awarenessMessage,
  decodeClientMessage,
  permissionDeniedMessage,
  syncStep1Message,
  syncStep2Message,
  updateMessage,
} from '../docs/yjs-messages.ts';
import type { Author } from '../domain/chat-rooms.ts';
import { userOf } from '../domain/principal.ts';
import type { DocumentRecord } from '../storage/documents.ts';
import { NotFoundError } from '../storage/storage.ts';

/** Layer message type of a stored update on a document's group. */
export const UPDATE_EVENT = 'doc.update';
/** Awareness client ids one socket may speak for (a provider uses one; a reload may add one). */
const MAX_CLIENT_IDS = 4;
/**
 * Binary frames per user per minute: a fast typist sends ~10 updates a second plus cursor moves;
 * this leaves room for that on a few devices.
 */
const BINARY_RATE = { limit: 3000, windowSeconds: 60 };

export interface DocConnectionState {
  document: DocumentRecord;
  user: Author;
  canWrite: boolean;
  /** Awareness client ids this socket announced; their states leave with it. */
  clientIds: Set<number>;
  awareness: AwarenessThrottle;
  toldReadOnly: boolean;
}

type DocConnection = Connection<DocConnectionState>;

const notFromSelf = (conn: DocConnection, event: LayerMessage) => event.origin !== conn.channelName;

const invalid = (text: string, closeCode?: number) =>
  new WsError(ErrorCode.INVALID_MESSAGE, text, closeCode === undefined ? {} : { closeCode });

export function docsConsumer(documents: RoomDocuments, registry: AwarenessRegistry) {
  /** This node's document sockets, for `resyncAll`. */
  const connected = new Set<DocConnection>();

  const publishAwareness = (conn: DocConnection, entries: AwarenessEntry[]) =>
    conn.layer
      .groupSend(
        documentGroup(conn.state.document.id),
        binaryLayerMessage(AWARENESS_EVENT, awarenessMessage(encodeAwareness(entries)), {
          origin: conn.channelName,
        }),
      )
      .catch((error: unknown) => conn.log.warn({ err: error }, 'awareness publish failed'));

  async function storeUpdate(conn: DocConnection, update: Uint8Array, step2: boolean): Promise<void> {
    const { document, canWrite } = conn.state;
    let decoded: ReturnType<typeof Y.decodeUpdate>;
    try {
      decoded = Y.decodeUpdate(update);
    } catch {
      throw invalid('Not a Yjs update.', 1007);
    }
    // A synced provider answers the server's step 1 with an empty update: nothing to store.
    if (decoded.structs.length === 0 && decoded.ds.clients.size === 0) return;
    if (!canWrite) {
      if (step2 && conn.state.toldReadOnly) return;
      conn.state.toldReadOnly = true;
      throw new WsError(ErrorCode.PERMISSION_DENIED, 'This document is read-only.');
    }
    try {
      await documents.append(document.id, update);
    } catch (error) {
      if (error instanceof NotFoundError) throw new WsError(ErrorCode.NOT_FOUND, 'Document not found.');
      throw error;
    }
    // Stored: now, and only now, the other editors may see it. A failed publish loses nothing:
    // the update is in storage and the layer's restore re-syncs every socket (resyncAll).
    await conn.layer
      .groupSend(
        documentGroup(document.id),
        binaryLayerMessage(UPDATE_EVENT, updateMessage(update), { origin: conn.channelName }),
      )
      .catch((error: unknown) => conn.log.warn({ err: error }, 'update publish failed'));
  }

  function relayAwareness(conn: DocConnection, update: Uint8Array): void {
    let entries: AwarenessEntry[];
    try {
      entries = decodeAwareness(update);
    } catch {
      throw invalid('Not an awareness update.');
    }
    const { document, user, clientIds } = conn.state;
    let refusal: string | undefined;
    for (const entry of entries) {
      const owner = registry.ownerOf(document.id, entry.clientId);
      if (owner !== undefined && owner !== conn.channelName) continue; // someone else's cursor
      if (!clientIds.has(entry.clientId)) {
        if (clientIds.size >= MAX_CLIENT_IDS) continue;
        clientIds.add(entry.clientId);
      }
      const stamped = stamp(entry.state, user);
      if (stamped.ok) conn.state.awareness.push({ ...entry, state: stamped.state });
      else refusal = stamped.reason;
    }
    if (refusal) throw invalid(refusal);
  }

  const consumer = defineConsumer({
    description:
      "A room's collaborative document over the standard y-websocket protocol (binary frames: sync step 1 / step 2 / update, awareness, query-awareness). Updates are stored before they are broadcast.",
    messages: {},

    async connect(conn): Promise<DocConnectionState> {
      const user = userOf(conn.principal);
      const { document, canWrite } = await documents.open(
        conn.params.room ?? '',
        conn.params.doc ?? '',
        user,
      );
      await conn.groupAdd(documentGroup(document.id));
      const stored = await documents.state(document.id);
      conn.sendBinary(syncStep1Message(Y.encodeStateVectorFromUpdate(stored)));
      await registry.join(document.id, conn);
      const known = registry.snapshot(document.id);
      if (known) conn.sendBinary(awarenessMessage(known));
      const self = conn as DocConnection;
      connected.add(self);
      return {
        document,
        user,
        canWrite,
        clientIds: new Set(),
        awareness: new AwarenessThrottle((entries) => void publishAwareness(self, entries)),
        toldReadOnly: false,
      };
    },

    handlers: {},

    binary: {
      rate: BINARY_RATE,
      // A provider cannot read JSON error frames; the protocol's own refusal is "permission denied".
      refusal: (error) => permissionDeniedMessage(`${error.code}: ${error.message}`),
      async handle(conn, data) {
        const message = decodeClientMessage(data);
        switch (message.kind) {
          case 'sync-step-1': {
            const stored = await documents.state(conn.state.document.id);
            let diff: Uint8Array;
            try {
              diff = Y.diffUpdate(stored, message.stateVector);
            } catch {
              throw invalid('Not a Yjs state vector.', 1007);
            }
            conn.sendBinary(syncStep2Message(diff));
            return;
          }
          case 'update':
            return storeUpdate(conn, message.update, message.step2);
          case 'awareness':
            return relayAwareness(conn, message.update);
          case 'query-awareness': {
            const known = registry.snapshot(conn.state.document.id);
            if (known) conn.sendBinary(awarenessMessage(known));
            return;
          }
          case 'auth':
            return;
          case 'malformed':
            throw invalid(
              `Not a y-websocket message: ${message.reason}.`,
              message.reason === 'truncated message' ? 1007 : undefined,
            );
        }
      },
    },

    forwardBinary: { [UPDATE_EVENT]: notFromSelf, [AWARENESS_EVENT]: notFromSelf },

    events: {
      [DOCUMENT_DELETED]: (conn) => {
        conn.sendBinary(permissionDeniedMessage('NOT_FOUND: The document was deleted.'));
        conn.close(4404, 'document deleted');
      },
    },

    async disconnect(conn) {
      connected.delete(conn);
      const { document, clientIds, awareness } = conn.state;
      awareness.close();
      // No ghost cursors: every node removes this socket's states now, not at their timeout.
      const goodbyes = [...clientIds].map((clientId) => ({
        clientId,
        clock: (registry.clockOf(document.id, clientId) ?? 0) + 1,
        state: LEFT,
      }));
      if (goodbyes.length > 0) await publishAwareness(conn, goodbyes);
      registry.leave(document.id, conn);
    },
  });

  const resync = (conn: DocConnection) =>
    documents
      .state(conn.state.document.id)
      .then((stored) => conn.sendBinary(updateMessage(stored)))
      .catch((error: unknown) => conn.log.warn({ err: error }, 'document re-sync failed'));

  // A state expired: its node may have died between storing an update and publishing it.
  registry.setOnExpired((documentId) => {
    for (const conn of connected) if (conn.state.document.id === documentId) void resync(conn);
  });

  return Object.assign(consumer, {
    /**
     * Every document socket of this node gets the whole stored document (after a channel-layer
     * outage, updates published meanwhile never arrived; Yjs ignores what the client already has).
     */
    resyncAll(): void {
      for (const conn of connected) void resync(conn);
    },
  });
}
