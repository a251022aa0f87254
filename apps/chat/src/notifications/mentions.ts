/**
 * `@username` mentions in a message. A mention starts at `@` not preceded by a word character
 * (so e-mail addresses do not count) and takes the longest run of username characters; a
 * trailing `.` or `-` is punctuation ("thanks @bob.").
 */
const MENTION = /(?<![\w@])@([A-Za-z0-9_.-]{3,40})/g;
/** Distinct users one message may notify by mention. */
export const MAX_MENTIONS = 10;

/** The distinct usernames mentioned, lower-cased, in order of first mention, at most MAX_MENTIONS. */
export function mentionedNames(text: string): string[] {
  const names = new Set<string>();
  for (const match of text.matchAll(MENTION)) {
    const name = match[1]!.replace(/[.-]+$/, '').toLowerCase();
    if (name.length >= 3) names.add(name);
    if (names.size === MAX_MENTIONS) break;
  }
  return [...names];
}
