/**
 * Extension point: the composer's attach button (`upload_file` / `upload_chunk` frames).
 * Renders nothing until the file-upload feature lands.
 */
export function AttachmentButton() {
  return null;
}
