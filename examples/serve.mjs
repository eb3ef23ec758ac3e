// make serve: the examples' pages on http://127.0.0.1:8000/ (or PORT).
// Also used by the browser tests, on a port of the system's choosing.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, normalize, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const examples = fileURLToPath(new URL('./', import.meta.url));
const TYPES = { '.html': 'text/html', '.mjs': 'text/javascript', '.js': 'text/javascript',
  '.wasm': 'application/wasm', '.png': 'image/png', '.css': 'text/css' };

// Starts serving a folder (the examples) on 127.0.0.1, with headers added
// to every response; resolves to the server.
export function serve(port = 0, folder = examples, headers = {}) {
  const root = folder.endsWith('/') ? folder : `${folder}/`;
  const server = createServer(async (request, response) => {
    const path = normalize(decodeURIComponent(new URL(request.url, 'http://x').pathname));
    const file = join(root, path.endsWith('/') ? `${path}index.html` : path);
    try {
      if (!file.startsWith(root)) throw new Error('outside the folder');
      const body = await readFile(file);
      response.writeHead(200, { ...headers, 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
      response.end(body);
    } catch {
      response.writeHead(404).end('not found');
    }
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const server = await serve(Number(process.env.PORT ?? 8000));
  const { port } = server.address();
  console.log(`serving the examples on http://127.0.0.1:${port}/`);
  for (const name of ['str_toggle', 'histogram']) console.log(`  http://127.0.0.1:${port}/${name}/`);
}
