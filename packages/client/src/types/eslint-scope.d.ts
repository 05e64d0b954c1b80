// The small part of eslint-scope's API that function-source.ts uses (eslint-scope ships no type declarations).
declare module 'eslint-scope' {
  import type { EspreeNode } from 'espree';

  export interface Reference {
    identifier: { name: string };
  }
  export interface Scope {
    type: string;
    through: Reference[];
  }
  export interface ScopeManager {
    globalScope: Scope | null;
  }
  export interface AnalyzeOptions {
    ecmaVersion?: number;
    sourceType?: 'script' | 'module' | 'commonjs';
  }
  export function analyze(ast: EspreeNode, options?: AnalyzeOptions): ScopeManager;
}
