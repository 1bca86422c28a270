/**
 * Test resources that close themselves: `await using broker = closing(new RedisBroker(…))`, for
 * the gateway's own types, which have `close()` but are not disposables themselves.
 *
 * @module
 */

/** `resource`, closed (and awaited) when the scope that holds it ends. */
export function closing<T extends { close(): unknown }>(resource: T): T & AsyncDisposable {
  return Object.assign(resource, {
    async [Symbol.asyncDispose]() {
      await resource.close();
    },
  });
}
