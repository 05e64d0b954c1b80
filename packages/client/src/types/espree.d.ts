// The small part of espree's API that function-source.ts uses (espree ships no type declarations).
declare module 'espree' {
  export interface EspreeNode {
    type: string;
    [field: string]: unknown;
  }
  export interface EspreeProgram extends EspreeNode {
    type: 'Program';
    body: EspreeNode[];
  }
  export interface ParseOptions {
    ecmaVersion?: number | 'latest';
    sourceType?: 'script' | 'module' | 'commonjs';
    range?: boolean;
    loc?: boolean;
  }
  export function parse(code: string, options?: ParseOptions): EspreeProgram;
}
