// The web app's tests run the chat server the same way the client SDK's tests do.
export * from '../../../../packages/client/test/helpers/chat-process.ts';
