/**
 * A stock y-websocket@1.5.4 `WebsocketProvider` against a chat server, as an editor would use it:
 * no adapter code, only the URL `ws://HOST/ws/docs/<room>` + doc name, the token as a parameter
 * and `ws` as the WebSocket implementation.
 */
import WebSocket from 'ws';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';

export interface DocEditor {
  ydoc: Y.Doc;
  text: Y.Text;
  provider: WebsocketProvider;
  /** Resolves once the provider has completed sync with the server. */
  synced(): Promise<void>;
  destroy(): void;
}

export function openDoc(baseUrl: string, slug: string, doc: string, token: string): DocEditor {
  const ydoc = new Y.Doc();
  const provider = new WebsocketProvider(`${baseUrl.replace(/^http/, 'ws')}/ws/docs/${slug}`, doc, ydoc, {
    params: { token },
    // biome-ignore lint/suspicious/noExplicitAny: ws is the polyfill y-websocket documents
    WebSocketPolyfill: WebSocket as any,
    disableBc: true,
  });
  return {
    ydoc,
    text: ydoc.getText('content'),
    provider,
    synced: () =>
      provider.synced
        ? Promise.resolve()
        : new Promise((resolve) => provider.once('synced', () => resolve())),
    destroy: () => {
      provider.destroy();
      ydoc.destroy();
    },
  };
}

/** Polls until `check` passes (vitest's expect.poll is per assertion; this waits for a condition). */
export async function until(check: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
