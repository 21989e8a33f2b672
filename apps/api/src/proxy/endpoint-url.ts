/** The OpenAI endpoints the service calls upstream (under a model's `baseUrl`). */
export type Endpoint = 'chat/completions' | 'embeddings';

/** OpenAI's layout: `{base}/chat/completions`, `{base}/embeddings`, one slash between them. */
export const endpointUrl = (baseUrl: string, endpoint: Endpoint) => `${baseUrl.replace(/\/+$/, '')}/${endpoint}`;
