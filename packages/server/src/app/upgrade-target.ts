/**
 * The path and query an upgrade asks for, read from its request line without ever throwing.
 *
 * The request target is the peer's text: `GET //[x` or `GET http://a:99999/ws/` make `new URL`
 * throw, and that used to happen inside the `upgrade` event, where nothing caught it and the
 * process died. Only two forms are meaningful for an upgrade (RFC 9112 §3.2): origin-form
 * (`/path?query`) and absolute-form (`http://host/path`, which proxies send). Anything else, or
 * anything the URL parser refuses, is not a target, and the caller answers 400.
 */
const ORIGIN = 'http://switchboard.invalid';
const ABSOLUTE_FORM = /^(?:https?|wss?):\/\//i;

export function upgradeTarget(raw: string | undefined): URL | null {
  if (!raw) return null;
  try {
    // Prefixing the origin keeps `//evil/x` a path instead of letting it name another host.
    if (raw.startsWith('/')) return new URL(`${ORIGIN}${raw}`);
    if (ABSOLUTE_FORM.test(raw)) {
      const absolute = new URL(raw);
      return new URL(`${ORIGIN}${absolute.pathname}${absolute.search}`);
    }
    return null;
  } catch {
    return null;
  }
}
