// The file that marks a directory as a model store, with the store's format. ModelStore.open reads it before
// creating anything; the dashboard's Models section reads it to tell a store from a mistyped path.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { STORE_FORMAT, STORE_MARKER } from './store-layout.js';
import { ModelStoreError } from './store-error.js';

/**
 * Whether `root` is marked as a store: true when its marker names this format, false when there is no marker
 * (missing directory or file); NOT_A_STORE for a marker of another format or one that cannot be read.
 */
export async function readStoreMarker(root: string): Promise<boolean> {
  const marker = join(root, STORE_MARKER);
  let text: string;
  try {
    text = await readFile(marker, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw new ModelStoreError('NOT_A_STORE', `${marker}: ${(error as Error).message}`, { path: marker, cause: error });
  }
  let format: unknown;
  try {
    format = (JSON.parse(text) as { format?: unknown }).format;
  } catch (error) {
    throw new ModelStoreError('NOT_A_STORE', `${marker}: ${(error as Error).message}`, { path: marker, cause: error });
  }
  if (format !== STORE_FORMAT) throw new ModelStoreError('NOT_A_STORE', `${marker}: unknown store format ${JSON.stringify(format)} (this Loom reads ${STORE_FORMAT})`, { path: marker });
  return true;
}
