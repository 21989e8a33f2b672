import { type IncomingMessage, type ServerResponse } from 'node:http';

/**
 * Calls `fn` once when the response is over: sent (`finished` true), or its client gone first (its response closed
 * unfinished, or its connection closed: the response to a pipelined request waiting behind another never emits
 * 'close' when the connection dies). At once when that already happened.
 */
export function onResponseOver(req: IncomingMessage, res: ServerResponse, fn: (finished: boolean) => void): void {
  const socket = req.socket as IncomingMessage['socket'] | null;
  let done = false;
  const over = () => {
    if (done) return;
    done = true;
    res.off('close', over);
    socket?.off('close', over);
    fn(res.writableFinished);
  };
  if (clientGone(req, res)) return over();
  res.once('close', over);
  socket?.once('close', over);
}

/**
 * The caller's side ended the work for it (it disconnected, or stopped reading a stream): not an upstream's fault
 * nor an error of the service (the access log marks such a request aborted).
 */
export class ClientGone extends Error {
  constructor(message = 'the client left before its answer') {
    super(message);
    this.name = 'ClientGone';
  }
}

/** A signal that aborts, with ClientGone, once the client leaves before its response is finished. */
export function clientGoneSignal(req: IncomingMessage, res: ServerResponse): AbortSignal {
  const ac = new AbortController();
  onResponseOver(req, res, (finished) => finished || ac.abort(new ClientGone()));
  return ac.signal;
}

/** The client left before its response was finished (its response closed, or its connection). */
export function clientGone(req: IncomingMessage, res: ServerResponse): boolean {
  return !res.writableFinished && (res.closed || (req.socket as IncomingMessage['socket'] | null)?.destroyed === true);
}
