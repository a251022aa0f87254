/**
 * Where file bytes live: `<dataDir>/files/<first two of id>/<id>`, named by the server's id,
 * never by the uploader's file name. Unfinished uploads are written under `.partial/` and moved
 * into place (one rename) only once complete and checked, so a stored file is always whole.
 */
import { createHash } from 'node:crypto';
import { createReadStream, type ReadStream } from 'node:fs';
import { open, readdir, rename, rm, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { makePrivateDirAsync, PRIVATE_FILE_MODE } from '../data-dir.ts';

const PARTIAL_DIR = '.partial';
const ID = /^[A-Za-z0-9-]{8,64}$/;

export class FileStore {
  readonly root: string;

  constructor(dataDir: string) {
    this.root = resolve(dataDir, 'files');
  }

  /** Creates the directories and deletes partial files older than `staleMs` (left by a crash). */
  async init(staleMs: number): Promise<void> {
    const partials = join(this.root, PARTIAL_DIR);
    await makePrivateDirAsync(partials);
    const now = Date.now();
    for (const name of await readdir(partials)) {
      const path = join(partials, name);
      const info = await stat(path).catch(() => undefined);
      if (info && now - info.mtimeMs > staleMs) await rm(path, { force: true });
    }
  }

  partialPath(id: string): string {
    return join(this.root, PARTIAL_DIR, checkedId(id));
  }

  /** Creates an empty partial file for an upload. */
  async createPartial(id: string): Promise<string> {
    const path = this.partialPath(id);
    await (await open(path, 'w', PRIVATE_FILE_MODE)).close();
    return path;
  }

  /** Writes `data` at `offset` of a partial file (chunks may arrive in any order). */
  async writeAt(path: string, offset: number, data: Buffer): Promise<void> {
    const handle = await open(path, 'r+');
    try {
      await handle.write(data, 0, data.length, offset);
    } finally {
      await handle.close();
    }
  }

  async sizeOf(path: string): Promise<number> {
    return (await stat(path)).size;
  }

  async sha256Of(path: string): Promise<string> {
    const hash = createHash('sha256');
    await pipeline(createReadStream(path), hash);
    return hash.digest('hex');
  }

  /** Moves a complete partial file into place; returns its path relative to the files directory. */
  async commit(partialPath: string, id: string): Promise<string> {
    const storagePath = join(checkedId(id).slice(0, 2), id);
    await makePrivateDirAsync(join(this.root, checkedId(id).slice(0, 2)));
    await rename(partialPath, join(this.root, storagePath));
    return storagePath;
  }

  async discard(path: string): Promise<void> {
    await rm(path, { force: true });
  }

  /** A stored file's bytes, or undefined if they are gone; refuses a path outside the files directory. */
  async open(storagePath: string): Promise<ReadStream | undefined> {
    const handle = await open(this.pathOf(storagePath), 'r').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });
    return handle?.createReadStream();
  }

  /** Deletes a committed file's bytes (a file that ended up attached to nothing). */
  async remove(storagePath: string): Promise<void> {
    await rm(this.pathOf(storagePath), { force: true });
  }

  private pathOf(storagePath: string): string {
    const path = resolve(this.root, storagePath);
    const inside = relative(this.root, path);
    if (inside === '' || inside.startsWith('..') || isAbsolute(inside)) {
      throw new Error(`storage path outside the files directory: ${storagePath}`);
    }
    return path;
  }
}

function checkedId(id: string): string {
  if (!ID.test(id)) throw new Error(`not a file id: ${JSON.stringify(id)}`);
  return id;
}
