/** Small inline icons: no icon font or emoji font needed. */

export function BellIcon() {
  return (
    <svg viewBox="0 0 16 16" width="16" height="16" fill="currentColor" aria-hidden="true">
      <path d="M8 1.5a4.5 4.5 0 0 0-4.5 4.5v2.6L2.2 11a.7.7 0 0 0 .6 1h10.4a.7.7 0 0 0 .6-1l-1.3-2.4V6A4.5 4.5 0 0 0 8 1.5ZM6.2 13a1.9 1.9 0 0 0 3.6 0H6.2Z" />
    </svg>
  );
}

export function PaperclipIcon() {
  return (
    <svg
      viewBox="0 0 16 16"
      width="18"
      height="18"
      fill="none"
      stroke="currentColor"
      strokeWidth="1.5"
      aria-hidden="true"
    >
      <path d="M13.5 7.5 8 13a3.5 3.5 0 0 1-5-5l5.8-5.8a2.3 2.3 0 0 1 3.3 3.3L6.3 11.3a1.2 1.2 0 0 1-1.7-1.7L10 4.2" />
    </svg>
  );
}
