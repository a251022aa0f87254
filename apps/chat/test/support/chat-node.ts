/**
 * One chat node as a real process (`node --import tsx apps/chat/src/main.ts`), configured only
 * through its environment, as in production. It listens on an ephemeral port and reports its URL
 * in its "listening" log line, which is how the launcher learns it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ChatApi } from './chat-api.ts';
import { ChildService } from './child-service.ts';

const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const LISTENING = 'switchboard chat server listening';

export interface ChatNodeEnv {
  DATABASE_URL: string;
  REDIS_URL: string;
  REDIS_PREFIX: string;
  JWT_SECRET: string;
  [name: string]: string;
}

export interface ChatNode {
  name: string;
  /** `http://127.0.0.1:port` */
  url: string;
  api: ChatApi;
  process: ChildService;
  /** The node's pino log lines (parsed JSON) whose `msg` contains `text`. */
  logged(text: string): { level: number; msg: string }[];
  /** GET a path of this node: status and JSON (or text) body. */
  get(path: string): Promise<{ status: number; body: unknown }>;
  /** SIGKILL: the node dies mid-whatever, with no goodbye to its clients. */
  kill(): Promise<void>;
  /** SIGTERM: graceful shutdown (sockets closed with 1001). */
  stop(): Promise<void>;
}

export async function startChatNode(name: string, env: ChatNodeEnv): Promise<ChatNode> {
  const dataDir = mkdtempSync(join(tmpdir(), `switchboard-${name}-`));
  const { service, ready: url } = await ChildService.start({
    name: `chat node ${name}`,
    command: process.execPath,
    args: ['--import', 'tsx', 'apps/chat/src/main.ts'],
    cwd: REPO_ROOT,
    env: {
      PATH: process.env.PATH,
      PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      LOG_LEVEL: 'info',
      // No web app: the node answers only the API, which is all a test or a bench talks to.
      WEB_DIST: join(dataDir, 'no-web-app'),
      ...env,
    },
    ready: (line) => {
      if (!line.includes(LISTENING)) return undefined;
      return (JSON.parse(line) as { url: string }).url;
    },
  });
  const cleanUp = () => rmSync(dataDir, { recursive: true, force: true });
  return {
    name,
    url,
    api: new ChatApi(url),
    process: service,
    logged(text) {
      return service.lines.filter((line) => line.includes(text)).map((line) => JSON.parse(line));
    },
    async get(path) {
      const response = await fetch(`${url}${path}`);
      const text = await response.text();
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // Prometheus text, not JSON.
      }
      return { status: response.status, body };
    },
    async kill() {
      await service.kill('SIGKILL');
      cleanUp();
    },
    async stop() {
      await service.kill('SIGTERM');
      cleanUp();
    },
  };
}
