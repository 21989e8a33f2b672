/** An upstream sent more than a configured limit allows; reading stopped there (nothing past it was buffered). */
export class ResponseTooLarge extends Error {
  constructor(what: 'response' | 'event', setting: string, limit: number) {
    super(`upstream ${what} exceeded ${setting} (${limit} bytes)`);
    this.name = 'ResponseTooLarge';
  }
}
