/**
 * One port, one gateway. Workers share their port with `SO_REUSEPORT`, which lets any other
 * process that sets it bind the same port silently: a second instance started by mistake would
 * split the viewers with the first, each getting a share of the publications of the embedded
 * broker. So before anything binds for real, the process binds once plainly, without it: that
 * fails if anything listens there already (an instance with any number of workers, or another
 * program), and says so in one line. Two starts within the same moment can still both pass; a
 * start after one that listens cannot.
 *
 * The same probe turns every reason a listen fails into one line an operator can act on: a port
 * in use, a port below 1024 without the capability, a `HOST` that is not this machine's or does not
 * resolve.
 *
 * @module
 */

/** A listen that cannot be done; the message says why in one line. */
export class ListenError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "ListenError";
  }
}

/** The one-line reason a bind to `host`:`port` failed with `error`. */
export function listenFailure(error: unknown, host: string, port: number): ListenError {
  if (error instanceof Deno.errors.AddrInUse) {
    return new ListenError(
      `PORT ${port} on ${host} is in use: another tvs-realtime, or another program, listens there`,
    );
  }
  if (error instanceof Deno.errors.PermissionDenied) {
    return new ListenError(
      `PORT ${port} is below 1024 and needs the CAP_NET_BIND_SERVICE capability ` +
        `(deploy/tvs-realtime.service says how), or a port from 1024 up`,
    );
  }
  if (error instanceof Deno.errors.AddrNotAvailable) {
    return new ListenError(`HOST ${host} is not an address of this machine`);
  }
  const message = error instanceof Error ? error.message : String(error);
  if (/lookup address|Name or service not known|resolve/i.test(message)) {
    return new ListenError(`HOST ${host} does not resolve: ${message}`);
  }
  return new ListenError(`Cannot listen on ${host}:${port}: ${message}`);
}

/**
 * Binds `host`:`port` once, without sharing it, and lets go at once.
 *
 * @throws {ListenError} when the process could not listen there.
 */
export function probeListen(host: string, port: number): void {
  let listener: Deno.Listener;
  try {
    listener = Deno.listen({ hostname: host, port });
  } catch (error) {
    throw listenFailure(error, host, port);
  }
  listener.close();
}
