/**
 * Which push endpoints the server will POST to. A subscription is a URL chosen by the client, so
 * without a check it would let anyone make the server call any address (SSRF). Only HTTPS URLs
 * of the configured push-service hosts pass.
 */
export function isAllowedPushEndpoint(endpoint: string, allowedHosts: readonly string[]): boolean {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return false;
  }
  if (url.protocol !== 'https:' || url.username || url.password) return false;
  const host = url.hostname.toLowerCase();
  return allowedHosts.some((allowed) =>
    allowed.startsWith('*.') ? host.endsWith(allowed.slice(1)) : host === allowed,
  );
}
