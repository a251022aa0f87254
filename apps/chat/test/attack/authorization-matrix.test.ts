/**
 * The authorisation matrix: who × action → what the server must answer, as one table. Each cell
 * is one test against a real server process, run on a fresh scene (a public and a private room
 * with their owner, a member, an invited user and a user who left), so no cell depends on another.
 *
 * Outcomes are written as the client sees them: an HTTP status (plus the error code), `open` for
 * a socket that reached its first frame, `<close code> <error code>` for a refused socket, and
 * `ack` / `error <code>` for a frame on an open socket.
 */
import { TestClient } from '@switchboard/server/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatUser } from '../support/chat-api.ts';
import { Tally, Target } from './support/attack-kit.ts';

const SERVICE_TOKEN = 'attack-matrix-service-token-'.padEnd(40, 'm');
const ADMIN = { username: 'matrix_admin', password: 'admin password, long enough' };

const ACTORS = ['anonymous', 'owner', 'member', 'invited', 'outsider', 'left', 'admin', 'service'] as const;
type Actor = (typeof ACTORS)[number];

/**
 * Who is who in every scene: `owner` (alice) created both rooms and invited `member` (bob) into the
 * private one, where bob invited `invited` (ivan); `member` also joined the public room; `left`
 * (lena) was in both and left; `outsider` (mallory) and `admin` were never in either; `service`
 * holds the SERVICE_TOKEN, which is no user's token.
 */
const users = {} as Record<
  'owner' | 'member' | 'invited' | 'outsider' | 'left' | 'admin' | 'guest',
  ChatUser
>;

let target: Target;
let aliceNotification: number;
let directRoom: string;
const tally = new Tally();

function tokenOf(actor: Actor): string | undefined {
  if (actor === 'anonymous') return undefined;
  if (actor === 'service') return SERVICE_TOKEN;
  return users[actor].access;
}

beforeAll(async () => {
  // Admins are named by ADMIN_USERS and made so at sign-in.
  target = await Target.start({
    SERVICE_TOKEN,
    ADMIN_USERS: ADMIN.username,
    // The matrix makes two rooms and a file per cell: lift the per-user quotas.
    ROOMS_PER_HOUR: '100000',
    UPLOADS_PER_MINUTE: '100000',
    AUTH_RATE_LIMIT: '100000',
  });
  const api = target.api;
  for (const role of ['owner', 'member', 'invited', 'outsider', 'left', 'guest'] as const) {
    users[role] = await api.signUp(role);
  }
  await api.call('POST', '/api/register/', { body: ADMIN });
  const signedIn = await api.call('POST', '/api/token/', { body: ADMIN });
  const me = await api.call('GET', '/api/me/', { token: signedIn.body.access });
  expect(me.body.is_admin).toBe(true);
  users.admin = { id: me.body.id, ...ADMIN, ...signedIn.body };

  const sent = await api.call('POST', '/api/notifications/', {
    token: SERVICE_TOKEN,
    body: { user_id: users.owner.id, title: "alice's only" },
  });
  aliceNotification = sent.body.notification.id;
  const direct = await api.call('POST', '/api/direct/', {
    token: users.owner.access,
    body: { username: users.member.username },
  });
  directRoom = direct.body.slug;
});

afterAll(async () => {
  tally.print('matrix', 'matrix rows');
  await target?.stop();
});

// --- a fresh scene per cell ------------------------------------------------------------------

class Scene {
  private readonly messages = new Map<string, Promise<number>>();
  private readonly files = new Map<string, Promise<string>>();

  private constructor(
    readonly pub: string,
    readonly priv: string,
  ) {}

  static async create(): Promise<Scene> {
    const { api } = target;
    const { owner, member, invited, left } = users;
    const pub = await api.createRoom(owner);
    const priv = await api.createRoom(owner, { private: true });
    await api.join(member, pub);
    await api.join(left, pub);
    await api.leave(left, pub);
    await api.invite(owner, priv, member);
    await api.invite(member, priv, invited);
    await api.invite(owner, priv, left);
    await api.leave(left, priv);
    return new Scene(pub, priv);
  }

  /** The id of a message `author` posted in the public room (posted on first use). */
  message(author: 'owner' | 'member'): Promise<number> {
    let id = this.messages.get(author);
    if (!id) {
      id = (async () => {
        const socket = await TestClient.connect(target.api.wsUrl(this.pub, { token: users[author].access }));
        await socket.next('synced');
        const ack = await socket.request({ type: 'chat_message', message: `${author} says hi` });
        await socket.close();
        return ack.message_id as number;
      })();
      this.messages.set(author, id);
    }
    return id;
  }

  /** The id of a file the owner posted in `room` (uploaded on first use). */
  file(room: 'pub' | 'priv'): Promise<string> {
    let id = this.files.get(room);
    if (!id) {
      id = upload(users.owner.access, this[room]).then(({ status, body }) => {
        if (status !== 201) throw new Error(`setup upload: ${status} ${JSON.stringify(body)}`);
        return body.file_id as string;
      });
      this.files.set(room, id);
    }
    return id;
  }
}

async function upload(token: string | undefined, slug: string) {
  const form = new FormData();
  form.set('file', new Blob(['matrix file'], { type: 'text/plain' }), 'matrix.txt');
  const response = await fetch(`${target.url}/api/rooms/${slug}/files/`, {
    method: 'POST',
    headers: token ? { authorization: `Bearer ${token}` } : {},
    body: form,
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

// --- outcomes --------------------------------------------------------------------------------

/** `200`, or `403 PERMISSION_DENIED`: what a client reads from an answer. */
async function rest(actor: Actor, method: string, path: string, body?: unknown): Promise<string> {
  const answer = await target.api.call(method, path, { token: tokenOf(actor), body });
  return answerOf(answer.status, answer.body);
}

function answerOf(status: number, body: { code?: string } | undefined): string {
  return status >= 400 ? `${status} ${body?.code}` : String(status);
}

/** Opens a socket at `path` as `actor`: `open`, or the refusal's close and error codes. */
async function socketAs(actor: Actor, path: string): Promise<{ outcome: string; socket?: TestClient }> {
  const token = tokenOf(actor);
  const query = token ? `?token=${encodeURIComponent(token)}` : '';
  const socket = await TestClient.connect(`${target.wsBase}${path}${query}`, { timeoutMs: 10_000 });
  const first = await socket.next();
  if (first.type !== 'error') return { outcome: 'open', socket };
  const closed = await socket.closed();
  return { outcome: `${closed.code} ${first.code}` };
}

/** Opens `path` as `actor` and, if it opens, sends `frame`: `ack`, `error <code>`, or the refusal. */
async function frameAs(actor: Actor, path: string, frame: Record<string, unknown>): Promise<string> {
  const { outcome, socket } = await socketAs(actor, path);
  if (!socket) return outcome;
  const answer = await socket.request(frame);
  await socket.close();
  return answer.type === 'ack' ? 'ack' : `error ${answer.code}`;
}

// --- the actions -----------------------------------------------------------------------------

type Run = (scene: Scene, actor: Actor) => Promise<string>;

const ACTIONS: Record<string, Run> = {
  'read history of the public room': (s, a) => rest(a, 'GET', `/api/rooms/${s.pub}/messages/`),
  'read history of the private room': (s, a) => rest(a, 'GET', `/api/rooms/${s.priv}/messages/`),
  'read history of the owner-member direct room': (_s, a) =>
    rest(a, 'GET', `/api/rooms/${directRoom}/messages/`),
  'list the members of the public room (read receipts)': (s, a) =>
    rest(a, 'GET', `/api/rooms/${s.pub}/read-receipts/`),
  'list the members of the private room (read receipts)': (s, a) =>
    rest(a, 'GET', `/api/rooms/${s.priv}/read-receipts/`),
  'join the public room': (s, a) => rest(a, 'POST', `/api/rooms/${s.pub}/join/`),
  'join the private room': (s, a) => rest(a, 'POST', `/api/rooms/${s.priv}/join/`),
  'leave the public room': (s, a) => rest(a, 'DELETE', `/api/rooms/${s.pub}/members/me/`),
  'leave the private room': (s, a) => rest(a, 'DELETE', `/api/rooms/${s.priv}/members/me/`),
  'invite someone to the public room': (s, a) =>
    rest(a, 'POST', `/api/rooms/${s.pub}/members/`, { username: users.guest.username }),
  'invite someone to the private room': (s, a) =>
    rest(a, 'POST', `/api/rooms/${s.priv}/members/`, { username: users.guest.username }),
  'upload a file to the private room': async (s, a) => {
    const { status, body } = await upload(tokenOf(a), s.priv);
    return answerOf(status, body);
  },
  'download a file of the private room': (s, a) => download(a, s, 'priv'),
  'download a file of the public room': (s, a) => download(a, s, 'pub'),
  "list notifications (never the owner's, unless owner)": async (_s, a) => {
    const answer = await target.api.call('GET', '/api/notifications/', { token: tokenOf(a) });
    const ids = ((answer.body?.notifications ?? []) as { id: number }[]).map((n) => n.id);
    const leaked = a !== 'owner' && ids.includes(aliceNotification);
    return leaked ? `${answer.status} with the owner's notification` : answerOf(answer.status, answer.body);
  },
  "mark the owner's notification read (REST)": (_s, a) =>
    rest(a, 'POST', `/api/notifications/${aliceNotification}/read/`),
  'send a notification to the owner': (_s, a) =>
    rest(a, 'POST', '/api/notifications/', { user_id: users.owner.id, title: 'from the matrix' }),
  'open a chat socket in the public room': async (s, a) => (await socketAs(a, `/ws/chat/${s.pub}/`)).outcome,
  'open a chat socket in the private room': async (s, a) =>
    (await socketAs(a, `/ws/chat/${s.priv}/`)).outcome,
  'post a message in the private room': (s, a) =>
    frameAs(a, `/ws/chat/${s.priv}/`, { type: 'chat_message', message: 'hello' }),
  "edit the owner's message": async (s, a) =>
    frameAs(a, `/ws/chat/${s.pub}/`, {
      type: 'edit_message',
      message_id: await s.message('owner'),
      new_content: 'changed',
    }),
  "delete the owner's message": async (s, a) =>
    frameAs(a, `/ws/chat/${s.pub}/`, { type: 'delete_message', message_id: await s.message('owner') }),
  "edit the member's message": async (s, a) =>
    frameAs(a, `/ws/chat/${s.pub}/`, {
      type: 'edit_message',
      message_id: await s.message('member'),
      new_content: 'changed',
    }),
  "delete the member's message": async (s, a) =>
    frameAs(a, `/ws/chat/${s.pub}/`, { type: 'delete_message', message_id: await s.message('member') }),
  "mark the owner's notification read (socket)": (_s, a) =>
    frameAs(a, '/ws/notifications/', { type: 'mark_read', notification_id: aliceNotification }),
  'open the status socket': async (_s, a) => (await socketAs(a, '/ws/status/')).outcome,
  'disable a user': async (_s, a) =>
    rest(a, 'POST', `/api/admin/users/${(await victim()).username}/disable/`),
  'enable a user': async (_s, a) => rest(a, 'POST', `/api/admin/users/${(await victim()).username}/enable/`),
  'delete a user': async (_s, a) => rest(a, 'DELETE', `/api/admin/users/${(await victim()).username}/`),
  'disable oneself': (_s, a) =>
    rest(
      a,
      'POST',
      `/api/admin/users/${a === 'anonymous' || a === 'service' ? users.owner.username : users[a].username}/disable/`,
    ),
};

/** A fresh account for an admin action to land on (a refused action leaves it untouched). */
function victim(): Promise<ChatUser> {
  return target.api.signUp('victim');
}

/** A download answers the file itself, not JSON: only a refusal has a body to read. */
async function download(actor: Actor, scene: Scene, room: 'pub' | 'priv'): Promise<string> {
  const id = await scene.file(room);
  const token = tokenOf(actor);
  const response = await fetch(`${target.url}/api/files/${id}/`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  const text = await response.text();
  return response.status >= 400 ? answerOf(response.status, JSON.parse(text)) : String(response.status);
}

// --- the table -------------------------------------------------------------------------------

// A private room's outsider is answered exactly as for a missing room, so names cannot be probed.
/** The answers no token gets, and the service token gets, where no route says otherwise. */
const NO_USER = { anonymous: '401 AUTHENTICATION_FAILED', service: '401 AUTHENTICATION_FAILED' };
const NO_USER_WS = { anonymous: '4401 AUTHENTICATION_FAILED', service: '4401 AUTHENTICATION_FAILED' };

const NOT_ADMIN = {
  owner: '403 PERMISSION_DENIED',
  member: '403 PERMISSION_DENIED',
  invited: '403 PERMISSION_DENIED',
  outsider: '403 PERMISSION_DENIED',
  left: '403 PERMISSION_DENIED',
};
const PUBLIC_MEMBERS_ONLY = {
  ...NO_USER,
  owner: '200',
  member: '200',
  invited: '403 PERMISSION_DENIED',
  outsider: '403 PERMISSION_DENIED',
  left: '403 PERMISSION_DENIED',
  admin: '403 PERMISSION_DENIED',
};
const notFoundRoom = '404 CHANNEL_NOT_FOUND';
const PRIVATE_MEMBERS_ONLY = {
  ...NO_USER,
  owner: '200',
  member: '200',
  invited: '200',
  outsider: notFoundRoom,
  left: notFoundRoom,
  admin: notFoundRoom,
};
const chatRefusedPublic = '4403 PERMISSION_DENIED';
const chatHidden = '4404 CHANNEL_NOT_FOUND';
const fileHidden = '404 NOT_FOUND';

const MATRIX: Record<string, Record<Actor, string>> = {
  'read history of the public room': PUBLIC_MEMBERS_ONLY,
  'read history of the private room': PRIVATE_MEMBERS_ONLY,
  'read history of the owner-member direct room': {
    ...NO_USER,
    owner: '200',
    member: '200',
    invited: notFoundRoom,
    outsider: notFoundRoom,
    left: notFoundRoom,
    admin: notFoundRoom,
  },
  'list the members of the public room (read receipts)': PUBLIC_MEMBERS_ONLY,
  'list the members of the private room (read receipts)': PRIVATE_MEMBERS_ONLY,
  'join the public room': {
    ...NO_USER,
    owner: '200',
    member: '200',
    invited: '200',
    outsider: '200',
    left: '200',
    admin: '200',
  },
  'join the private room': {
    ...NO_USER,
    owner: '200',
    member: '200',
    invited: '200',
    outsider: notFoundRoom,
    left: notFoundRoom,
    admin: notFoundRoom,
  },
  'leave the public room': {
    ...NO_USER,
    owner: '204',
    member: '204',
    invited: '404 NOT_FOUND',
    outsider: '404 NOT_FOUND',
    left: '404 NOT_FOUND',
    admin: '404 NOT_FOUND',
  },
  'leave the private room': {
    ...NO_USER,
    owner: '204',
    member: '204',
    invited: '204',
    outsider: '404 CHANNEL_NOT_FOUND',
    left: '404 CHANNEL_NOT_FOUND',
    admin: '404 CHANNEL_NOT_FOUND',
  },
  'invite someone to the public room': PUBLIC_MEMBERS_ONLY,
  'invite someone to the private room': PRIVATE_MEMBERS_ONLY,
  'upload a file to the private room': {
    ...NO_USER,
    owner: '201',
    member: '201',
    invited: '201',
    outsider: notFoundRoom,
    left: notFoundRoom,
    admin: notFoundRoom,
  },
  'download a file of the private room': {
    ...NO_USER,
    owner: '200',
    member: '200',
    invited: '200',
    outsider: fileHidden,
    left: fileHidden,
    admin: fileHidden,
  },
  'download a file of the public room': {
    ...NO_USER,
    owner: '200',
    member: '200',
    invited: fileHidden,
    outsider: fileHidden,
    left: fileHidden,
    admin: fileHidden,
  },
  "list notifications (never the owner's, unless owner)": {
    ...NO_USER,
    owner: '200',
    member: '200',
    invited: '200',
    outsider: '200',
    left: '200',
    admin: '200',
  },
  "mark the owner's notification read (REST)": {
    ...NO_USER,
    owner: '200',
    member: '404 NOT_FOUND',
    invited: '404 NOT_FOUND',
    outsider: '404 NOT_FOUND',
    left: '404 NOT_FOUND',
    admin: '404 NOT_FOUND',
  },
  'send a notification to the owner': {
    anonymous: '401 AUTHENTICATION_FAILED',
    owner: '403 PERMISSION_DENIED',
    member: '403 PERMISSION_DENIED',
    invited: '403 PERMISSION_DENIED',
    outsider: '403 PERMISSION_DENIED',
    left: '403 PERMISSION_DENIED',
    admin: '201',
    service: '201',
  },
  'open a chat socket in the public room': {
    ...NO_USER_WS,
    owner: 'open',
    member: 'open',
    invited: chatRefusedPublic,
    outsider: chatRefusedPublic,
    left: chatRefusedPublic,
    admin: chatRefusedPublic,
  },
  'open a chat socket in the private room': {
    ...NO_USER_WS,
    owner: 'open',
    member: 'open',
    invited: 'open',
    outsider: chatHidden,
    left: chatHidden,
    admin: chatHidden,
  },
  'post a message in the private room': {
    ...NO_USER_WS,
    owner: 'ack',
    member: 'ack',
    invited: 'ack',
    outsider: chatHidden,
    left: chatHidden,
    admin: chatHidden,
  },
  // Only the author edits or deletes; owning the room gives no right over others' words.
  "edit the owner's message": {
    ...NO_USER_WS,
    owner: 'ack',
    member: 'error PERMISSION_DENIED',
    invited: chatRefusedPublic,
    outsider: chatRefusedPublic,
    left: chatRefusedPublic,
    admin: chatRefusedPublic,
  },
  "delete the owner's message": {
    ...NO_USER_WS,
    owner: 'ack',
    member: 'error PERMISSION_DENIED',
    invited: chatRefusedPublic,
    outsider: chatRefusedPublic,
    left: chatRefusedPublic,
    admin: chatRefusedPublic,
  },
  "edit the member's message": {
    ...NO_USER_WS,
    owner: 'error PERMISSION_DENIED',
    member: 'ack',
    invited: chatRefusedPublic,
    outsider: chatRefusedPublic,
    left: chatRefusedPublic,
    admin: chatRefusedPublic,
  },
  "delete the member's message": {
    ...NO_USER_WS,
    owner: 'error PERMISSION_DENIED',
    member: 'ack',
    invited: chatRefusedPublic,
    outsider: chatRefusedPublic,
    left: chatRefusedPublic,
    admin: chatRefusedPublic,
  },
  // Someone else's notification is "not found", never "forbidden": ids tell nothing.
  "mark the owner's notification read (socket)": {
    ...NO_USER_WS,
    owner: 'ack',
    member: 'error NOT_FOUND',
    invited: 'error NOT_FOUND',
    outsider: 'error NOT_FOUND',
    left: 'error NOT_FOUND',
    admin: 'error NOT_FOUND',
  },
  'open the status socket': {
    ...NO_USER_WS,
    owner: 'open',
    member: 'open',
    invited: 'open',
    outsider: 'open',
    left: 'open',
    admin: 'open',
  },
  // Account administration is for admins only; the service token is for notifications, not this.
  'disable a user': { ...NO_USER, ...NOT_ADMIN, admin: '200' },
  'enable a user': { ...NO_USER, ...NOT_ADMIN, admin: '200' },
  'delete a user': { ...NO_USER, ...NOT_ADMIN, admin: '204' },
  'disable oneself': { ...NO_USER, ...NOT_ADMIN, admin: '403 PERMISSION_DENIED' },
};

describe('the authorisation matrix: who × action → answer', () => {
  it('every action of the table has a runner and every runner a row', () => {
    expect(Object.keys(MATRIX).sort()).toEqual(Object.keys(ACTIONS).sort());
  });

  for (const [action, row] of Object.entries(MATRIX)) {
    for (const actor of ACTORS) {
      const expected = row[actor];
      it(`${actor} → ${action}: ${expected}`, async () => {
        tally.add(action.startsWith('open') || /socket|message/.test(action) ? 'socket' : 'REST');
        const scene = await Scene.create();
        expect(await ACTIONS[action]!(scene, actor), `${actor} → ${action}`).toBe(expected);
      });
    }
  }
});
