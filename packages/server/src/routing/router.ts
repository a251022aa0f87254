/**
 * Path routing for WebSocket upgrades: `/ws/chat/:room/` matches `/ws/chat/lobby/` (and, forgivingly,
 * `/ws/chat/lobby`) with `{ room: 'lobby' }`. A parameter is one decoded path segment.
 */
export type RouteParams = Readonly<Record<string, string>>;

interface CompiledRoute<T> {
  pattern: string;
  regex: RegExp;
  names: string[];
  target: T;
}

export class Router<T> {
  private readonly routes: CompiledRoute<T>[] = [];

  add(pattern: string, target: T): void {
    if (!pattern.startsWith('/')) throw new TypeError(`route pattern must start with "/": ${pattern}`);
    const names: string[] = [];
    const source = pattern
      .replace(/\/$/, '')
      .split('/')
      .map((segment) => {
        if (!segment.startsWith(':')) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        names.push(segment.slice(1));
        return '([^/]+)';
      })
      .join('/');
    this.routes.push({ pattern, regex: new RegExp(`^${source}/?$`), names, target });
  }

  entries(): { pattern: string; target: T }[] {
    return this.routes.map(({ pattern, target }) => ({ pattern, target }));
  }

  match(pathname: string): { target: T; params: RouteParams; pattern: string } | null {
    for (const route of this.routes) {
      const found = route.regex.exec(pathname);
      if (!found) continue;
      const params: Record<string, string> = {};
      try {
        route.names.forEach((name, i) => {
          params[name] = decodeURIComponent(found[i + 1]!);
        });
      } catch {
        return null; // malformed percent-encoding names no channel
      }
      return { target: route.target, params, pattern: route.pattern };
    }
    return null;
  }
}
