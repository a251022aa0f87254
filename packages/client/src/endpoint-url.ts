/** `http://host:8000` + `/ws/chat/lobby/` → `ws://host:8000/ws/chat/lobby/` (https → wss). */
export function endpointUrl(server: string, path: string): string {
  const url = new URL(path, server);
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  return url.toString();
}
