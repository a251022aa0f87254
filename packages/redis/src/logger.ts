/**
 * The logging this package needs: a pino logger fits, and so does anything with the same
 * `(fields, message)` calls. Without one the package stays silent and reports through counters.
 */
export interface Logger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

const ignore = () => {};

export const silentLogger: Logger = { info: ignore, warn: ignore, error: ignore };
