/**
 * Extension point: the composer's attach button. The file goes up over HTTP multipart with a
 * progress bar (a browser's socket outbox is no place for megabytes); the server posts it to the
 * room as a message with the file attached, which arrives like any other message.
 */
import { useRef, useState } from 'react';
import { errorText } from '../app/error-text.ts';
import { PaperclipIcon } from './icons.tsx';
import { useRoomSignals } from './LiveRoom.tsx';
import { type Upload, uploadToRoom } from './live-api.ts';

interface Progress {
  name: string;
  fraction: number;
  upload: Upload;
}

export function AttachmentButton() {
  const signals = useRoomSignals();
  const input = useRef<HTMLInputElement>(null);
  const [progress, setProgress] = useState<Progress | null>(null);
  const [error, setError] = useState<string | null>(null);
  if (!signals) return null;

  function start(file: File) {
    setError(null);
    const upload = uploadToRoom(signals!.slug, file, (fraction) =>
      setProgress((current) => current && { ...current, fraction }),
    );
    setProgress({ name: file.name, fraction: 0, upload });
    upload.done.then(
      () => setProgress(null),
      (caught: unknown) => {
        setProgress(null);
        if ((caught as { code?: string }).code !== 'CANCELLED') setError(errorText(caught));
      },
    );
  }

  return (
    <div className="attachment">
      <input
        ref={input}
        type="file"
        hidden
        onChange={(event) => {
          const file = event.target.files?.[0];
          event.target.value = '';
          if (file) start(file);
        }}
      />
      <button
        type="button"
        className="link-button attach-button"
        aria-label="Attach a file"
        title="Attach a file"
        disabled={progress !== null}
        onClick={() => input.current?.click()}
      >
        <PaperclipIcon />
      </button>
      {progress && (
        <span className="upload-progress" data-testid="upload-progress">
          <progress max={1} value={progress.fraction} aria-label={`Uploading ${progress.name}`} />
          <span>{Math.round(progress.fraction * 100)}%</span>
          <button type="button" className="link-button" onClick={() => progress.upload.cancel()}>
            Cancel
          </button>
        </span>
      )}
      {error && (
        <span className="form-error upload-error" role="alert">
          {error}
        </span>
      )}
    </div>
  );
}
