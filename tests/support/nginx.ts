/**
 * Debian's nginx running the shipped `deploy/nginx.conf` in front of a gateway, on loopback ports,
 * with a throwaway certificate. Only what a test cannot run as shipped is changed: the listen
 * addresses, the certificate's paths and the gateway's port, and where a test asks, a shipped
 * timeout shortened (the line must be there to be shortened).
 *
 * @module
 */

import { PROJECT_ROOT } from "./cli.ts";
import type { TlsCertificate } from "./tls_certificate.ts";
import { freePort, waitFor } from "./wait.ts";

/** Debian's nginx is in /usr/sbin, which a user's PATH may lack. */
const NGINX = await Deno.stat("/usr/sbin/nginx").then(() => "/usr/sbin/nginx", () => "nginx");

/** A running nginx. */
export interface Nginx extends AsyncDisposable {
  /** The TLS port (the shipped `listen 443 ssl`). */
  readonly tlsPort: number;
  /** `https://localhost:<tlsPort>`. */
  readonly https: string;
  /** What the shipped access log holds so far. */
  accessLog(): Promise<string>;
}

/** What a test changes of the shipped site beyond its addresses. */
export interface NginxOptions {
  /** `send_timeout` in seconds instead of the shipped value. */
  readonly sendTimeoutSeconds?: number;
  /**
   * Forward no `Upgrade` (and no `Connection: upgrade`), as a proxy that breaks WebSockets does:
   * the gateway then sees plain `GET`s.
   */
  readonly stripUpgrade?: boolean;
  /**
   * Ports of several gateways: the shipped upstream block is replaced with
   * `deploy/nginx-upstream.conf`'s, its hosts pointed at these ports in order.
   */
  readonly upstreamPorts?: readonly number[];
}

/** `deploy/nginx-upstream.conf` with its example hosts pointed at `ports` on loopback. */
async function upstreamBlock(ports: readonly number[]): Promise<string> {
  let block = await Deno.readTextFile(`${PROJECT_ROOT}deploy/nginx-upstream.conf`);
  const hosts = [...block.matchAll(/server (10\.0\.0\.\d+:8765)/g)].map((match) => match[1]!);
  if (hosts.length !== ports.length) {
    throw new Error(`deploy/nginx-upstream.conf names ${hosts.length} hosts, not ${ports.length}`);
  }
  hosts.forEach((host, i) => block = block.replace(host, `127.0.0.1:${ports[i]}`));
  return block;
}

/** The shipped site configuration, pointed at `gatewayPort`, listening on `tlsPort`. */
async function siteConfig(
  gatewayPort: number,
  ports: { readonly tls: number; readonly http: number },
  certificate: TlsCertificate,
  options: NginxOptions & { readonly accessLog: string },
): Promise<string> {
  const { accessLog } = options;
  const shipped = await Deno.readTextFile(`${PROJECT_ROOT}deploy/nginx.conf`);
  const replacements: [string, string][] = [
    ["listen 443 ssl http2;", `listen 127.0.0.1:${ports.tls} ssl http2;`],
    ["listen [::]:443 ssl http2;", ""],
    ["listen 443 ssl default_server;", `listen 127.0.0.1:${ports.tls} ssl default_server;`],
    ["listen [::]:443 ssl default_server;", ""],
    ["listen 80;", `listen 127.0.0.1:${ports.http};`],
    ["listen [::]:80;", ""],
    ["listen 80 default_server;", `listen 127.0.0.1:${ports.http} default_server;`],
    ["listen [::]:80 default_server;", ""],
    ["server 127.0.0.1:8765;", `server 127.0.0.1:${gatewayPort};`],
    // The names the tests reach it by; any other is the default server's to refuse.
    ["server_name ws.trendvidstream.com;", "server_name localhost 127.0.0.1;"],
    ["/etc/ssl/certs/ws.trendvidstream.com.pem", certificate.certFile],
    ["/etc/ssl/private/ws.trendvidstream.com.key", certificate.keyFile],
    ["/var/log/nginx/tvs-realtime.access.log", accessLog],
  ];
  if (options.sendTimeoutSeconds !== undefined) {
    replacements.push([
      "send_timeout          30s;",
      `send_timeout ${options.sendTimeoutSeconds}s;`,
    ]);
  }
  if (options.stripUpgrade === true) {
    replacements.push(
      ["proxy_set_header Upgrade           $http_upgrade;", 'proxy_set_header Upgrade "";'],
      ["proxy_set_header Connection        $tvs_connection;", 'proxy_set_header Connection "";'],
    );
  }
  let config = shipped;
  for (const [from, to] of replacements) {
    if (!config.includes(from)) throw new Error(`deploy/nginx.conf no longer has "${from}"`);
    config = config.replaceAll(from, to);
  }
  if (options.upstreamPorts === undefined) return config;
  const upstream = /^upstream tvs_realtime \{[^}]*\}$/m;
  if (!upstream.test(config)) throw new Error("deploy/nginx.conf no longer has its upstream block");
  return config.replace(upstream, await upstreamBlock(options.upstreamPorts));
}

/** Starts nginx with the shipped site in front of the gateway on `gatewayPort`. */
export async function startNginx(
  gatewayPort: number,
  certificate: TlsCertificate,
  options: NginxOptions = {},
): Promise<Nginx> {
  const prefix = await Deno.makeTempDir({ prefix: "tvs-nginx-" });
  const ports = { tls: await freePort(), http: await freePort() };
  await Deno.writeTextFile(
    `${prefix}/site.conf`,
    await siteConfig(gatewayPort, ports, certificate, {
      ...options,
      accessLog: `${prefix}/access.log`,
    }),
  );
  // The part of nginx.conf a distribution ships around conf.d/: here, all in the temporary prefix.
  await Deno.writeTextFile(
    `${prefix}/nginx.conf`,
    `daemon off;
worker_processes 1;
pid ${prefix}/nginx.pid;
error_log stderr warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${prefix}/body;
  proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi;
  uwsgi_temp_path ${prefix}/uwsgi;
  scgi_temp_path ${prefix}/scgi;
  include ${prefix}/site.conf;
}
`,
  );
  const child = new Deno.Command(NGINX, {
    args: ["-p", prefix, "-c", `${prefix}/nginx.conf`, "-e", "stderr"],
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch {
      // Already gone.
    }
    await child.status;
    await Deno.remove(prefix, { recursive: true });
  };
  try {
    await waitFor(async () => {
      try {
        (await Deno.connect({ hostname: "127.0.0.1", port: ports.tls })).close();
        return true;
      } catch {
        return false;
      }
    }, { what: "nginx listening" });
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    tlsPort: ports.tls,
    https: `https://localhost:${ports.tls}`,
    accessLog: () => Deno.readTextFile(`${prefix}/access.log`).catch(() => ""),
    [Symbol.asyncDispose]: stop,
  };
}
