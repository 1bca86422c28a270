/**
 * A throwaway certificate for `localhost` and 127.0.0.1, made with `openssl`, for a test of the
 * TLS proxy in front of the gateway.
 *
 * @module
 */

/** A certificate and its key, as files and as PEM text. */
export interface TlsCertificate extends AsyncDisposable {
  readonly certFile: string;
  readonly keyFile: string;
  /** The CA's certificate in PEM, for a client to trust (`caCerts`). */
  readonly pem: string;
}

async function openssl(args: string[]): Promise<void> {
  const output = await new Deno.Command("openssl", { args, stdout: "null", stderr: "piped" })
    .output();
  if (!output.success) throw new Error(new TextDecoder().decode(output.stderr));
}

const EC_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

/**
 * Makes a certificate for `localhost` and 127.0.0.1, valid for a day, signed by a throwaway CA
 * (clients such as Deno's refuse a self-signed CA certificate as a server's), in a new temporary
 * directory removed on dispose. `pem` is the CA, for clients to trust.
 */
export async function makeCertificate(): Promise<TlsCertificate> {
  const directory = await Deno.makeTempDir({ prefix: "tvs-tls-" });
  const file = (name: string) => `${directory}/${name}`;
  await openssl([
    "req",
    "-x509",
    ...EC_KEY,
    "-days",
    "1",
    "-subj",
    "/CN=tvs-realtime test CA",
    "-keyout",
    file("ca.key"),
    "-out",
    file("ca.pem"),
  ]);
  await openssl([
    "req",
    "-new",
    ...EC_KEY,
    "-subj",
    "/CN=localhost",
    "-keyout",
    file("key.pem"),
    "-out",
    file("request.csr"),
  ]);
  await Deno.writeTextFile(
    file("leaf.ext"),
    "basicConstraints=critical,CA:FALSE\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n",
  );
  await openssl([
    "x509",
    "-req",
    "-in",
    file("request.csr"),
    "-CA",
    file("ca.pem"),
    "-CAkey",
    file("ca.key"),
    "-CAcreateserial",
    "-days",
    "1",
    "-extfile",
    file("leaf.ext"),
    "-out",
    file("cert.pem"),
  ]);
  return {
    certFile: file("cert.pem"),
    keyFile: file("key.pem"),
    pem: await Deno.readTextFile(file("ca.pem")),
    [Symbol.asyncDispose]: () => Deno.remove(directory, { recursive: true }),
  };
}
