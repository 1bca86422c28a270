/**
 * Expected failures become short JSON answers with a precise status; these helpers build them.
 *
 * @module
 */

/** A JSON response with `status` and `body`. */
export function json(status: number, body: unknown, headers: HeadersInit = {}): Response {
  const response = new Response(JSON.stringify(body) + "\n", {
    status,
    headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" },
  });
  for (const [name, value] of new Headers(headers)) response.headers.set(name, value);
  return response;
}

/** An error answer: `{"error": code, "message": message, ...extra}`. */
export function jsonError(
  status: number,
  code: string,
  message: string,
  extra: Readonly<Record<string, unknown>> = {},
  headers: HeadersInit = {},
): Response {
  return json(status, { error: code, message, ...extra }, headers);
}
