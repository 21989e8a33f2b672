/**
 * Relays an upstream's server-sent events chunk by chunk: complete events are forwarded at once, `data:` JSON
 * payloads with `model` rewritten, `[DONE]` and comments unchanged. Counts the content characters and keeps the
 * final `usage` (when the upstream sends one) so the proxy can record tokens for streamed answers.
 */
export class SseRelay {
  private buffer = '';
  private readonly decoder = new TextDecoder();
  contentChars = 0;
  usage: { prompt_tokens?: number; completion_tokens?: number } | null = null;

  constructor(
    private readonly model: string,
    private readonly write: (text: string) => void,
  ) {}

  push(bytes: Uint8Array): void {
    this.buffer += this.decoder.decode(bytes, { stream: true });
    let cut: number;
    while ((cut = this.nextBoundary()) >= 0) {
      const block = this.buffer.slice(0, cut);
      this.buffer = this.buffer.slice(cut).replace(/^(\r?\n){2}/, '');
      this.forward(block);
    }
  }

  end(): void {
    this.buffer += this.decoder.decode();
    if (this.buffer.trim()) this.forward(this.buffer);
    this.buffer = '';
  }

  private nextBoundary(): number {
    const a = this.buffer.indexOf('\n\n');
    const b = this.buffer.indexOf('\r\n\r\n');
    if (a < 0) return b;
    if (b < 0) return a;
    return Math.min(a, b);
  }

  private forward(block: string): void {
    const out: string[] = [];
    for (const line of block.split(/\r?\n/)) {
      if (!line.startsWith('data:')) {
        out.push(line);
        continue;
      }
      const payload = line.slice(5).trim();
      if (payload === '[DONE]' || payload === '') {
        out.push(line);
        continue;
      }
      try {
        const chunk = JSON.parse(payload) as { model?: string; usage?: SseRelay['usage']; choices?: { delta?: { content?: string | null } }[] };
        chunk.model = this.model;
        for (const c of chunk.choices ?? []) this.contentChars += c.delta?.content?.length ?? 0;
        if (chunk.usage) this.usage = chunk.usage;
        out.push(`data: ${JSON.stringify(chunk)}`);
      } catch {
        out.push(line);
      }
    }
    this.write(`${out.join('\n')}\n\n`);
  }
}
