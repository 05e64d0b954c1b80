// Types for deploy-image.mjs (imported by the deploy tests).
export const ROOT: string;
export const CONTAINERS_CONF: string;
export const BASE_IMAGE: string;
export const REDIS_IMAGE: string;
export const DEFAULT_TAG: string;
export function podmanEnv(extra?: Record<string, string>): NodeJS.ProcessEnv;
export function podman(args: string[], options?: { inherit?: boolean; input?: string }): string;
export function imageExists(name: string): boolean;
export function ensurePodman(): void;
export function debianMirror(): string;
export function ensureBaseImage(): string;
export function ensureRedisImage(): string;
export function buildLoomImage(tag?: string, options?: { base?: string }): string;
export function imageSize(name: string): number;
