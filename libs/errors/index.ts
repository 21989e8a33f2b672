/**
 * Coded domain errors. Libraries and services throw these; the API's one exception filter maps each code to an
 * HTTP status with an exhaustive switch (apps/api/src/errors/problem.filter.ts); the worker maps them to
 * retry or UnrecoverableError.
 */
export const ERROR_CODES = [
  'VALIDATION',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'POLICY_NOT_FOUND',
  'MODEL_NOT_FOUND',
  'DECISION_NOT_FOUND',
  'KEY_NOT_FOUND',
  'READING_NOT_FOUND',
  'AUDIT_NOT_FOUND',
  'MODEL_IN_USE',
  'NOTHING_TO_REVERT',
  'CASCADE_CONFLICT',
  'EVENT_LIMIT',
  'UNKNOWN_ARM',
  'FEATURES_MISMATCH',
  'WRONG_MODE',
  'UNAVAILABLE',
  'PAYLOAD_TOO_LARGE',
  'RATE_LIMITED',
  'UPSTREAM_FAILED',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export interface FieldError {
  path: string;
  message: string;
}

export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly errors: FieldError[] = [],
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export const fail = (code: ErrorCode, message: string, errors: FieldError[] = []): never => {
  throw new DomainError(code, message, errors);
};
