/**
 * Extension point: a message's attachments. Files are fetched with the user's token (the
 * download route is for room members only), so links are blob URLs made on demand. Only the
 * image types the server serves inline (png, jpeg, gif, webp) are previewed; nothing else is
 * ever rendered, and an attachment whose URL is not a file route of this server is not linked.
 */
import type { ChatMessage } from '@switchboard/client';
import type { Attachment } from '@switchboard/protocol';
import { useEffect, useState } from 'react';
import { errorText } from '../app/error-text.ts';
import { authedFetch } from './live-api.ts';

const FILE_URL = /^\/api\/files\/[A-Za-z0-9-]{8,64}\/$/;
const PREVIEWABLE = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);

export function MessageAttachments({ message }: { message: ChatMessage }) {
  if (message.attachments.length === 0) return null;
  return (
    <ul className="attachments">
      {message.attachments.map((attachment) => (
        <li key={attachment.id}>
          <AttachmentView attachment={attachment} />
        </li>
      ))}
    </ul>
  );
}

function AttachmentView({ attachment }: { attachment: Attachment }) {
  const [error, setError] = useState<string | null>(null);
  const linkable = FILE_URL.test(attachment.url);

  async function download() {
    setError(null);
    try {
      const blob = await (await authedFetch(attachment.url)).blob();
      const url = URL.createObjectURL(blob);
      const link = document.createElement('a');
      link.href = url;
      link.download = attachment.file_name;
      link.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (caught) {
      setError(errorText(caught));
    }
  }

  return (
    <div className="attachment-card" data-testid="attachment">
      {linkable && PREVIEWABLE.has(attachment.file_type) && <Preview attachment={attachment} />}
      <div className="attachment-meta">
        <span className="attachment-name">{attachment.file_name}</span>
        <span className="attachment-size">{formatSize(attachment.file_size)}</span>
        {linkable && (
          <button type="button" className="link-button" onClick={download}>
            Download
          </button>
        )}
      </div>
      {error && <span className="form-error">{error}</span>}
    </div>
  );
}

function Preview({ attachment }: { attachment: Attachment }) {
  const [src, setSrc] = useState<string | null>(null);
  useEffect(() => {
    let url: string | undefined;
    let cancelled = false;
    authedFetch(`${attachment.url}?inline=1`)
      .then((response) => response.blob())
      .then((blob) => {
        if (cancelled) return;
        url = URL.createObjectURL(blob);
        setSrc(url);
      })
      .catch(() => {
        // No preview; the download button still works or says why.
      });
    return () => {
      cancelled = true;
      if (url) URL.revokeObjectURL(url);
    };
  }, [attachment.url]);
  return src ? (
    <img className="attachment-preview" src={src} alt={attachment.file_name} loading="lazy" />
  ) : null;
}

function formatSize(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
  if (bytes >= 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${bytes} bytes`;
}
