/** The hash slot (0–16383) of a Redis key, as Redis Cluster computes it (hash tags honoured). */
declare module 'cluster-key-slot' {
  function calculateSlot(key: string | Buffer): number;
  export default calculateSlot;
}
