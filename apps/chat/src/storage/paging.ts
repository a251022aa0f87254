/** Most rows one page (rooms, history, change log, receipts, notifications) returns, whatever the caller asks. */
const MAX_PAGE = 1000;

/** The caller's limit as a LIMIT clause: whole, not negative, at most MAX_PAGE. */
export function pageSize(limit: number): number {
  return Math.max(0, Math.min(Math.trunc(limit), MAX_PAGE));
}
