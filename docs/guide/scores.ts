import { defineConsumer, jwtAuthenticator, Switchboard, WsError } from '@switchboard/server';
import { z } from 'zod';

// jose wants the HS256 secret as bytes. Set JWT_SECRET (≥ 32 characters) outside development.
export const secret = new TextEncoder().encode(
  process.env.JWT_SECRET ?? 'development secret, not for production!',
);

// Your own rule; here every match from 1 to 99 exists and any signed-in user may watch it.
async function canWatch(userId: string | number, match: string): Promise<boolean> {
  return userId !== '' && /^[1-9][0-9]?$/.test(match);
}

export const scores = defineConsumer({
  description: 'Live scores of one match.',
  // Client frames, keyed by `type`. Anything else is answered with INVALID_MESSAGE.
  messages: {
    cheer: z.strictObject({
      type: z.literal('cheer'),
      team: z.enum(['home', 'away']),
      ref: z.string().optional(),
    }),
  },
  // Server frames, for the AsyncAPI document.
  sends: {
    score: z.object({ type: z.literal('score'), home: z.number(), away: z.number() }),
    cheered: z.object({ type: z.literal('cheered'), team: z.enum(['home', 'away']) }),
  },
  // Authorise and build the connection's state; throw WsError to refuse (error frame + close code).
  async connect(conn) {
    const match = conn.params.match!;
    if (!(await canWatch(conn.principal.id, match)))
      throw new WsError('PERMISSION_DENIED', 'Not your match.');
    await conn.groupAdd(`match.${match}`);
    return { match, cheers: 0 };
  },
  handlers: {
    // `frame` is typed from the schema; the returned object becomes the `ack` (when the frame had a `ref`).
    cheer(conn, frame) {
      conn.state.cheers++;
      conn.afterReply(() =>
        conn.layer.groupSend(`match.${conn.state.match}`, { type: 'cheered', team: frame.team }),
      );
      return { total: conn.state.cheers };
    },
  },
  // Layer messages relayed verbatim: serialised and framed once per node, however many sockets get them.
  forward: { score: true, cheered: true },
  // Layer messages that need per-connection work run here, one at a time per connection.
  events: { 'match.ended': (conn) => conn.close(1000, 'match over') },
  disconnect(conn) {
    // Groups are left for you; clean up your own state here.
    conn.log.info({ cheers: conn.state.cheers }, 'viewer left');
  },
});

export const app = new Switchboard({
  authenticate: jwtAuthenticator({ key: secret, principal: (claims) => ({ id: String(claims.sub) }) }),
});
app.route('/ws/scores/:match/', scores);
