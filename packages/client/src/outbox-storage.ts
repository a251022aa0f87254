/**
 * Where the offline queue survives between connections: localStorage in a browser (a reload keeps
 * unsent messages), a plain Map in Node. Anything with the same two methods can replace them.
 */

export interface OutboxStorage {
  /** The frames saved under `key`, or undefined. The outbox validates what it gets back. */
  read(key: string): unknown;
  write(key: string, frames: readonly object[]): void;
}

export function memoryOutboxStorage(): OutboxStorage {
  const saved = new Map<string, readonly object[]>();
  return {
    read: (key) => saved.get(key),
    write: (key, frames) => {
      if (frames.length === 0) saved.delete(key);
      else saved.set(key, [...frames]);
    },
  };
}

/** The subset of the DOM Storage interface used here. */
export interface KeyValueStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export function webOutboxStorage(store: KeyValueStore, prefix = 'switchboard:outbox:'): OutboxStorage {
  return {
    read(key) {
      const text = store.getItem(prefix + key);
      if (text === null) return undefined;
      try {
        return JSON.parse(text);
      } catch {
        return undefined;
      }
    },
    write(key, frames) {
      try {
        if (frames.length === 0) store.removeItem(prefix + key);
        else store.setItem(prefix + key, JSON.stringify(frames));
      } catch (error) {
        // Quota exceeded or storage disabled: the queue still works in memory for this page.
        console.warn('switchboard: could not persist the offline queue', error);
      }
    },
  };
}

/** localStorage when the page may use it, else memory. */
export function defaultOutboxStorage(): OutboxStorage {
  try {
    const store = (globalThis as { localStorage?: KeyValueStore }).localStorage;
    // Node 22+ defines a localStorage global that throws or warns without --localstorage-file;
    // only trust it in a document.
    if (store && typeof (globalThis as { document?: unknown }).document !== 'undefined') {
      return webOutboxStorage(store);
    }
  } catch {
    // Access to localStorage throws in some privacy modes.
  }
  return memoryOutboxStorage();
}
