// Turns FunctionSpecs into callable functions inside a task thread, once per function id: source text is compiled
// (as an expression, or as a method shorthand such as `inc(x) { ... }`), module exports are imported, fused chains
// call the functions they name (fused-chain.ts).
// A failure names the function or module and is remembered, so every task of a broken function fails alike.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { LoomError } from '@loom/protocol';
import { chainFunction } from './fused-chain.js';
import type { FunctionSpec, TaskFunction } from './task-types.js';


type Loaded = { fn: TaskFunction } | { error: LoomError } | { loading: Promise<TaskFunction> };

export class FunctionLoader {
  private readonly specs = new Map<string, FunctionSpec>();
  private readonly loaded = new Map<string, Loaded>();
  private readonly modules = new Map<string, Promise<Record<string, unknown>>>();

  define(spec: FunctionSpec): void {
    if (this.specs.has(spec.id)) return;
    this.specs.set(spec.id, spec);
    // A task that named this id before its definition arrived cached "never sent"; the definition supersedes it.
    this.loaded.delete(spec.id);
  }

  spec(id: string): FunctionSpec | undefined {
    return this.specs.get(id);
  }

  /** The function, synchronously when it is already loaded (the common case), else a promise of it. */
  load(id: string): TaskFunction | Promise<TaskFunction> {
    let entry = this.loaded.get(id);
    if (!entry) {
      entry = this.startLoading(id);
      this.loaded.set(id, entry);
    }
    if ('fn' in entry) return entry.fn;
    if ('error' in entry) throw entry.error;
    return entry.loading;
  }

  private startLoading(id: string): Loaded {
    const spec = this.specs.get(id);
    if (!spec) {
      return { error: new LoomError('FUNCTION_LOAD_FAILED', `function '${id}' was never sent to this worker`) };
    }
    if (spec.body.kind === 'chain') return { fn: chainFunction(spec.name, spec.body.functionIds, this) };
    if (spec.body.kind === 'source') {
      try {
        return { fn: compileSource(spec.name, spec.body.source) };
      } catch (error) {
        return { error: error as LoomError };
      }
    }
    const { specifier, exportName } = spec.body;
    const loading = this.importExport(spec.name, specifier, exportName || 'default').then(
      (fn) => {
        this.loaded.set(id, { fn });
        return fn;
      },
      (error: unknown) => {
        const loomError = error as LoomError;
        this.loaded.set(id, { error: loomError });
        throw loomError;
      },
    );
    return { loading };
  }

  private async importExport(name: string, specifier: string, exportName: string): Promise<TaskFunction> {
    let namespace = this.modules.get(specifier);
    if (!namespace) {
      namespace = importModule(specifier);
      this.modules.set(specifier, namespace);
    }
    let exports: Record<string, unknown>;
    try {
      exports = await namespace;
    } catch (error) {
      throw new LoomError(
        'FUNCTION_LOAD_FAILED',
        `cannot load function '${name}': importing module '${specifier}' failed on the worker: ${(error as Error).message}`,
        { remoteStack: (error as Error).stack ?? '', errorName: (error as Error).name },
      );
    }
    const fn = exports[exportName];
    if (typeof fn !== 'function') {
      throw new LoomError(
        'FUNCTION_LOAD_FAILED',
        `cannot load function '${name}': module '${specifier}' has no function export '${exportName}'` +
          ` (found ${fn === undefined ? 'nothing' : typeof fn})`,
      );
    }
    return fn as TaskFunction;
  }
}

/**
 * Imports a module by URL or package name. Bare package names resolve from this file first, then from the
 * worker's working directory, so a project's own dependencies are importable when the worker runs inside it.
 */
async function importModule(specifier: string): Promise<Record<string, unknown>> {
  try {
    return (await import(specifier)) as Record<string, unknown>;
  } catch (error) {
    const bare = !/^(?:[a-z][a-z0-9+.-]*:|\.{0,2}\/)/i.test(specifier);
    if (!bare || (error as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND') throw error;
    let resolved: string;
    try {
      resolved = createRequire(join(process.cwd(), 'noop.js')).resolve(specifier);
    } catch {
      throw error;
    }
    return (await import(pathToFileURL(resolved).href)) as Record<string, unknown>;
  }
}

/**
 * Compiles shipped source text. `fn.toString()` gives an expression for function declarations, arrows and
 * classes, but a method shorthand (`inc(x) {}`, `async inc() {}`, `*gen() {}`) only parses inside an object
 * literal. The sourceURL names the function in remote stack traces instead of an anonymous eval frame.
 */
export function compileSource(name: string, source: string): TaskFunction {
  const sourceUrl = `\n//# sourceURL=loom-function:${encodeURIComponent(name || 'anonymous')}`;
  let value: unknown;
  try {
    value = new Function(`return (${source}\n);${sourceUrl}`)();
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw loadFailed(name, error);
    value = fromMethodShorthand(name, source, sourceUrl, error);
  }
  if (typeof value !== 'function') {
    throw new LoomError('FUNCTION_LOAD_FAILED', `cannot load function '${name}': its source evaluates to ${typeof value}, not a function`);
  }
  return value as TaskFunction;
}

function fromMethodShorthand(name: string, source: string, sourceUrl: string, expressionError: SyntaxError): unknown {
  let holder: Record<string, unknown>;
  try {
    holder = new Function(`return ({ ${source}\n });${sourceUrl}`)() as Record<string, unknown>;
  } catch {
    throw loadFailed(name, expressionError);
  }
  if (name && typeof holder[name] === 'function') return holder[name];
  // The client's name may differ from the method's own (a renamed or symbol-keyed method): take the only method.
  const methods = Object.values(holder).filter((value) => typeof value === 'function');
  if (methods.length === 1) return methods[0];
  throw loadFailed(name, expressionError);
}

function loadFailed(name: string, error: unknown): LoomError {
  const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return new LoomError(
    'FUNCTION_LOAD_FAILED',
    `cannot load function '${name}': its source does not compile on the worker (${reason}). ` +
      `Native and bound functions have no shippable source: export the function from a module and submit { module, export }.`,
    { remoteStack: error instanceof Error ? (error.stack ?? '') : '', errorName: error instanceof Error ? error.name : '' },
  );
}
