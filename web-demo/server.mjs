// A tiny static server for the demo, on 127.0.0.1 only. It serves the page (web-demo/) and the
// package's no-bundler builds (pkg/tools/web/ and the keys build it loads, pkg/web/), nothing else
// of the checkout.
//   node web-demo/server.mjs [PORT]     (0 picks a free port; the URL is printed on stdout)
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SERVED = ['web-demo/', 'pkg/tools/web/', 'pkg/web/'];
const HIDDEN = ['web-demo/tests/'];
const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.ts': 'text/plain; charset=utf-8',
};

const port = Number(process.argv[2] ?? process.env.PORT ?? 8377);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`serve-demo: not a port: ${process.argv[2]}`);
  process.exit(2);
}

function send(response, status, text) {
  response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' }).end(text);
}

const server = createServer(async (request, response) => {
  let path;
  try {
    path = decodeURIComponent(new URL(request.url, 'http://localhost').pathname);
  } catch {
    send(response, 400, 'bad request');
    return;
  }
  if (path === '/' || path === '/web-demo') {
    response.writeHead(302, { location: '/web-demo/' }).end();
    return;
  }
  if (path.endsWith('/')) path += 'index.html';
  const relative = normalize(path).replace(/^[/\\]+/, '');
  const posix = relative.split(sep).join('/');
  if (!SERVED.some((prefix) => posix.startsWith(prefix)) || HIDDEN.some((prefix) => posix.startsWith(prefix))) {
    send(response, 404, 'not found');
    return;
  }
  const file = join(ROOT, relative);
  try {
    if (!(await stat(file)).isFile()) throw new Error('not a file');
  } catch {
    send(response, 404, 'not found');
    return;
  }
  // no-store: a rebuilt package shows up on the next reload.
  response.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
  createReadStream(file).pipe(response);
});

server.listen(port, '127.0.0.1', () => {
  console.log(`serving http://127.0.0.1:${server.address().port}/web-demo/`);
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => server.close(() => process.exit(0)));
