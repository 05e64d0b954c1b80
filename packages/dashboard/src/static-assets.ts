// The pages' files, read once at start-up into memory and served from there: the package's own assets/ folder
// and uPlot (an npm dependency, vendored by being served from here: clusters often have no internet).
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface StaticAsset {
  body: Buffer;
  contentType: string;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** This package's assets folder (beside dist/ once built). */
export const ASSETS_DIR = fileURLToPath(new URL('../../assets/', import.meta.url));

export function loadAssets(): Map<string, StaticAsset> {
  const assets = new Map<string, StaticAsset>();
  for (const name of readdirSync(ASSETS_DIR)) {
    const contentType = CONTENT_TYPES[extname(name)];
    if (contentType !== undefined) assets.set(name, { body: readFileSync(join(ASSETS_DIR, name)), contentType });
  }
  const require = createRequire(import.meta.url);
  for (const file of ['uPlot.iife.min.js', 'uPlot.min.css']) {
    assets.set(file, { body: readFileSync(require.resolve(`uplot/dist/${file}`)), contentType: CONTENT_TYPES[extname(file)]! });
  }
  return assets;
}
