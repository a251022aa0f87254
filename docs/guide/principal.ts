// In any module of your app (one with an import or export, so that this merges into the framework's
// interface instead of declaring a new module):
export type { Principal } from '@switchboard/server';

declare module '@switchboard/server' {
  interface Principal {
    displayName?: string;
  }
}
