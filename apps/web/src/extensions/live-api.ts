/**
 * The REST calls of the live features (notifications, read positions, files), made with the
 * signed-in user's token; a 401 refreshes the token once and retries, like the app's own API.
 */
import { ApiError } from '@switchboard/client';
import { api } from '../app/session.ts';

async function withToken(run: (token: string) => Promise<Response>): Promise<Response> {
  const response = await run(api.accessToken() ?? '');
  if (response.status !== 401) return response;
  const fresh = await api.refreshAccessToken();
  return fresh ? run(fresh) : response;
}

/** A fetch with `Authorization: Bearer`; non-2xx answers become an ApiError with the server's text. */
export async function authedFetch(path: string, init: RequestInit = {}): Promise<Response> {
  const response = await withToken((token) =>
    fetch(path, { ...init, headers: { ...init.headers, authorization: `Bearer ${token}` } }),
  );
  if (!response.ok) throw await apiErrorOf(response.status, () => response.json());
  return response;
}

export async function getJson<T>(path: string): Promise<T> {
  return (await authedFetch(path)).json() as Promise<T>;
}

async function apiErrorOf(status: number, body: () => Promise<unknown>): Promise<ApiError> {
  try {
    const { error, code } = (await body()) as { error?: string; code?: string };
    return new ApiError(status, code ?? 'UNKNOWN', error ?? `HTTP ${status}`);
  } catch {
    return new ApiError(status, 'UNKNOWN', `HTTP ${status}`);
  }
}

export interface Upload {
  done: Promise<void>;
  cancel(): void;
}

/**
 * Posts a file to a room as multipart (the server streams it to disk and posts the message with
 * the attachment). XMLHttpRequest rather than fetch, for upload progress.
 */
export function uploadToRoom(slug: string, file: File, onProgress: (fraction: number) => void): Upload {
  let current: XMLHttpRequest | undefined;
  let cancelled = false;
  const attempt = (token: string) =>
    new Promise<{ status: number; text: string }>((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      current = xhr;
      xhr.open('POST', `/api/rooms/${encodeURIComponent(slug)}/files/`);
      xhr.setRequestHeader('authorization', `Bearer ${token}`);
      xhr.upload.onprogress = (event) => {
        if (event.lengthComputable) onProgress(event.loaded / event.total);
      };
      xhr.onload = () => resolve({ status: xhr.status, text: xhr.responseText });
      xhr.onerror = () => reject(new TypeError('The upload failed: the server cannot be reached.'));
      xhr.onabort = () => reject(new ApiError(0, 'CANCELLED', 'Upload cancelled.'));
      const form = new FormData();
      form.append('file', file, file.name);
      xhr.send(form);
    });
  const done = (async () => {
    let answer = await attempt(api.accessToken() ?? '');
    if (answer.status === 401 && !cancelled) {
      const fresh = await api.refreshAccessToken();
      if (fresh) answer = await attempt(fresh);
    }
    if (answer.status >= 300) throw await apiErrorOf(answer.status, async () => JSON.parse(answer.text));
  })();
  return {
    done,
    cancel() {
      cancelled = true;
      current?.abort();
    },
  };
}
