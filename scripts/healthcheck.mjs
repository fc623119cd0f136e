#!/usr/bin/env node
// The container HEALTHCHECK: healthy means working (streams polled, alerts delivered), not only
// "process alive" — it asks /readyz. The address comes from VIGIE_HEALTH_URL, else VIGIE_LISTEN's
// port on 127.0.0.1, else the default 127.0.0.1:9464. Exit 0 ready, 1 not.
const listen = process.env.VIGIE_LISTEN ?? '127.0.0.1:9464';
const port = /:(\d+)$/.exec(listen)?.[1] ?? '9464';
const url = process.env.VIGIE_HEALTH_URL ?? `http://127.0.0.1:${port}/readyz`;
try {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  const body = await res.text();
  if (!res.ok) process.stderr.write(body.slice(0, 2000));
  process.exit(res.ok ? 0 : 1);
} catch (err) {
  process.stderr.write(`${url}: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
