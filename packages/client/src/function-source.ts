// How a user's function becomes a FunctionDef the workers can run: source text that must be self-contained
// (checked here, once per distinct source, for free variables) or a reference to an importable module export.
// The content hash of either is the function id that tasks name and task keys are derived from.
import { createHash } from 'node:crypto';
import { analyze } from 'eslint-scope';
import { parse, type EspreeNode } from 'espree';
import { LoomError, type loom } from '@loom/protocol';

/** Any function; parameters are `never` so every function type is assignable without `any`. */
export type AnyFunction = (...args: never[]) => unknown;

/** A function given by reference: an export of a module the workers can import. No source check applies. */
export interface ModuleFunction {
  /** 'file:///abs/path.js' or a package name the workers can resolve. */
  module: string;
  /** The named export; 'default' for the default export. */
  export: string;
}

export interface FunctionEntry {
  /** Content hash: tasks name their function by it. */
  readonly id: string;
  /** Sanitised name used as the task key prefix. */
  readonly name: string;
  readonly def: loom.v1.IFunctionDef;
  /** The functions a fused chain runs (graph-fuse.ts): the scheduler must know them before the chain. */
  readonly parts?: readonly FunctionEntry[];
}

interface CheckedSource {
  id: string;
  /** The source as `fn.toString()` gives it; workers compile it as an expression or as a method shorthand. */
  source: string;
}

// Names a shipped function may use without defining them: what exists on globalThis when Loom is imported.
// ESM imports run before the importing module's body, so user globals assigned later are not mistaken for builtins.
const KNOWN_GLOBALS = collectGlobalNames();

const checkedSources = new Map<string, CheckedSource | LoomError>();
const entriesByFunction = new WeakMap<object, FunctionEntry>();
const entriesByModule = new Map<string, FunctionEntry>();

export function isModuleFunction(value: unknown): value is ModuleFunction {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as ModuleFunction).module === 'string' &&
    typeof (value as ModuleFunction).export === 'string'
  );
}

/**
 * The FunctionDef for `fn`, computed once per function object (and the source check once per source text).
 * Throws FREE_VARIABLE when the source uses variables it does not define, SERIALIZATION_FAILED for native,
 * bound and class functions, FUNCTION_LOAD_FAILED when the source does not parse.
 */
export function functionEntry(fn: AnyFunction | ModuleFunction): FunctionEntry {
  if (typeof fn !== 'function') {
    if (isModuleFunction(fn)) return moduleEntry(fn);
    throw new TypeError(`Loom needs a function or { module, export } reference, got ${describe(fn)}`);
  }
  const cached = entriesByFunction.get(fn);
  if (cached) return cached;
  const name = sanitizeName(fn.name);
  const checked = checkSource(Function.prototype.toString.call(fn), name);
  const entry: FunctionEntry = { id: checked.id, name, def: { id: checked.id, name, source: checked.source } };
  entriesByFunction.set(fn, entry);
  return entry;
}

function moduleEntry(ref: ModuleFunction): FunctionEntry {
  const cacheKey = `${ref.module}\0${ref.export}`;
  let entry = entriesByModule.get(cacheKey);
  if (!entry) {
    if (ref.module === '' || ref.export === '') {
      throw new TypeError(`a module function reference needs a non-empty module and export, got ${JSON.stringify(ref)}`);
    }
    const id = sha1(`module\0${cacheKey}`);
    const name = sanitizeName(ref.export === 'default' ? baseName(ref.module) : ref.export);
    entry = { id, name, def: { id, name, module: { specifier: ref.module, exportName: ref.export } } };
    entriesByModule.set(cacheKey, entry);
  }
  return entry;
}

/** A key prefix from a function or user-given name: identifier characters only, 'lambda' when empty. */
export function sanitizeName(name: string): string {
  const cleaned = name.replace(/^bound /, '').replace(/[^A-Za-z0-9_$.]/g, '_');
  return cleaned === '' ? 'lambda' : cleaned;
}

function checkSource(source: string, name: string): CheckedSource {
  let checked = checkedSources.get(source);
  if (!checked) {
    try {
      checked = analyseSource(source, name);
    } catch (error) {
      if (!(error instanceof LoomError)) throw error;
      checked = error;
    }
    checkedSources.set(source, checked);
  }
  if (checked instanceof LoomError) throw checked;
  return checked;
}

function analyseSource(source: string, name: string): CheckedSource {
  if (/\{\s*\[native code\]\s*\}\s*$/.test(source)) {
    throw new LoomError(
      'SERIALIZATION_FAILED',
      `function '${name}' is native or bound (its source is '[native code]'), so it cannot be sent to workers. ` +
        `Wrap it in a function of your own, e.g. (x) => Math.sqrt(x), or give it by module reference ` +
        `{ module, export }; for a bound function, pass the bound values as arguments instead.`,
    );
  }
  const free = freeVariables(parseFunction(source, name));
  if (free.length > 0) {
    const names = free.map((variable) => `'${variable}'`).join(', ');
    throw new LoomError(
      'FREE_VARIABLE',
      `function '${name}' uses ${free.length === 1 ? 'variable' : 'variables'} ${names} defined outside it. ` +
        `Loom sends functions to workers as source text, so they cannot see the variables around them. ` +
        `Pass ${free.length === 1 ? 'it' : 'each'} as an argument (delayed(fn)(value), client.submit(fn, value)), ` +
        `or give the function by module reference: delayed({ module: 'file:///abs/path.js', export: '${name}' }).`,
    );
  }
  return { id: sha1(source), source };
}

/** The function's syntax tree, parsed as an expression or, for method shorthand, inside an object literal. */
function parseFunction(source: string, name: string): EspreeNode {
  // The newline keeps a trailing line comment from swallowing the closing parenthesis.
  const asExpression = `(${source}\n)`;
  const program = tryParse(asExpression);
  if (program) {
    const node = soleExpression(program);
    if (node?.type === 'ClassExpression') {
      throw new LoomError(
        'SERIALIZATION_FAILED',
        `'${name}' is a class; Loom calls task functions, it cannot construct classes on workers. ` +
          `Pass a function that builds the instance (its class defined inside it), or give a module reference.`,
      );
    }
    if (node?.type === 'ArrowFunctionExpression' || node?.type === 'FunctionExpression') {
      return program;
    }
  }
  // Method shorthand (`name(x) { ... }`, `async name() {}`) is not an expression on its own, but is inside an
  // object literal (the worker compiles it the same way).
  const methodProgram = tryParse(`({${source}\n})`);
  const property = methodProgram ? soleMethod(methodProgram) : undefined;
  if (methodProgram && property) {
    if (property.kind !== 'init') {
      throw new LoomError('SERIALIZATION_FAILED', `'${name}' is a ${String(property.kind)}ter; pass a plain function instead.`);
    }
    return methodProgram;
  }
  throw new LoomError(
    'FUNCTION_LOAD_FAILED',
    `cannot parse the source of function '${name}' as a standalone function ` +
      `(class methods using private fields cannot be sent): ${source.slice(0, 200)}`,
  );
}

function tryParse(code: string): EspreeNode | undefined {
  try {
    // eslint-scope needs node ranges to resolve references in default parameters.
    return parse(code, { ecmaVersion: 'latest', sourceType: 'script', range: true });
  } catch {
    return undefined;
  }
}

function soleExpression(program: EspreeNode): EspreeNode | undefined {
  const body = program['body'] as EspreeNode[];
  const statement = body.length === 1 ? body[0] : undefined;
  return statement?.type === 'ExpressionStatement' ? (statement['expression'] as EspreeNode) : undefined;
}

function soleMethod(program: EspreeNode): EspreeNode | undefined {
  const object = soleExpression(program);
  const properties = object?.type === 'ObjectExpression' ? (object['properties'] as EspreeNode[]) : [];
  const property = properties.length === 1 ? properties[0] : undefined;
  return property?.type === 'Property' && (property['method'] === true || property['kind'] !== 'init') ? property : undefined;
}

function freeVariables(ast: EspreeNode): string[] {
  const scopes = analyze(ast, { ecmaVersion: 2022, sourceType: 'script' });
  const free = new Set<string>();
  for (const reference of scopes.globalScope?.through ?? []) {
    const variable = reference.identifier.name;
    if (!KNOWN_GLOBALS.has(variable)) free.add(variable);
  }
  return [...free];
}

function collectGlobalNames(): Set<string> {
  const names = new Set<string>();
  for (let object: object | null = globalThis; object !== null; object = Object.getPrototypeOf(object) as object | null) {
    for (const name of Object.getOwnPropertyNames(object)) names.add(name);
  }
  return names;
}

function sha1(text: string): string {
  return createHash('sha1').update(text).digest('hex');
}

function baseName(specifier: string): string {
  const last = specifier.split('/').pop() ?? specifier;
  return last.replace(/\.[cm]?[jt]s$/, '');
}

function describe(value: unknown): string {
  return value === null ? 'null' : typeof value === 'object' ? 'an object' : typeof value;
}
