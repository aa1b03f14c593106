// Placeholder: the producer handler is being written (issue 2).
export const handler = async () => ({ sent: 0, failed: 0, shards: [] as string[] });
