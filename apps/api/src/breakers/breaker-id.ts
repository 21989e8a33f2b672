import { type Endpoint } from '../proxy/endpoint-url.js';

/**
 * The breaker a call counts against: the model's for chat (the one routing reads), one of its own for embeddings
 * (`<id> /embeddings`: no model id has a space), so that an upstream that serves chat but fails embeddings does not
 * take its model out of routing.
 */
export const breakerId = (model: string, endpoint: Endpoint) => (endpoint === 'embeddings' ? `${model} /embeddings` : model);
