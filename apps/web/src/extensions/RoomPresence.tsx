/**
 * Extension point: who in this room is online (from `/ws/status/` `user_status` frames).
 * Renders nothing until the presence feature lands.
 */
export function RoomPresence(_props: { room: string }) {
  return null;
}
