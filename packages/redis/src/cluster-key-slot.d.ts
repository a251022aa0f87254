/** The slot (0–16383) of a key in Redis Cluster: CRC16 of its hash tag or whole name. ioredis's own dependency. */
declare module 'cluster-key-slot' {
  export default function calculateSlot(key: string): number;
}
