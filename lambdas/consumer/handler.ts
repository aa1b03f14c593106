// Placeholder: the consumer handler is being written (issue 2).
export const handler = async () => ({ batchItemFailures: [] as { itemIdentifier: string }[] });
