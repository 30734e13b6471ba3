import type { HttpHandler, HttpRequest, HttpResponseInit } from '@azure/functions';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { problem, problemResponse } from '../problem.js';

export interface ServeDashboardDeps {
  /** The folder with index.html, the stylesheet and the browser modules: {@link dashboardAssetsDirectory}. */
  readonly assetsDirectory: string;
}

interface Asset {
  readonly body: string;
  readonly contentType: string;
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  // Browsers refuse module scripts served with any other type.
  '.mjs': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/**
 * The dashboard next to this module: `dist/src/dashboard` (copied there by `npm run build`, so it deploys
 * with the compiled app), or `src/dashboard` when this module runs from source.
 */
export function dashboardAssetsDirectory(): string {
  return path.resolve(__dirname, '../../dashboard');
}

const INDEX = 'index.html';
/** index.html names its own URL with this token, so relative links work under any route prefix. */
export const BASE_TOKEN = '__DASHBOARD_BASE__';
const ASSET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Everything from this origin, nothing inline, nothing elsewhere: the page must never reach the internet. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'self'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  // The page URL may carry `?code=` until the page strips it; never send it on.
  'referrer-policy': 'no-referrer',
};

const isAsset = (name: string): boolean => ASSET_NAME.test(name) && path.extname(name) in CONTENT_TYPES;

/** The build step: copies the files the dashboard serves (nothing else) from `from` to a fresh `to`. */
export function copyDashboardAssets(from: string, to: string): string[] {
  rmSync(to, { recursive: true, force: true });
  mkdirSync(to, { recursive: true });
  const copied = readdirSync(from, { withFileTypes: true }).filter((e) => e.isFile() && isAsset(e.name));
  for (const entry of copied) copyFileSync(path.join(from, entry.name), path.join(to, entry.name));
  return copied.map((entry) => entry.name);
}

/** Reads the served files once: a flat folder, known extensions only, so no request can name anything else. */
export function loadDashboardAssets(directory: string): ReadonlyMap<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    const contentType = CONTENT_TYPES[path.extname(entry.name)];
    if (!entry.isFile() || !contentType || !isAsset(entry.name)) continue;
    assets.set(entry.name, { body: readFileSync(path.join(directory, entry.name), 'utf8'), contentType });
  }
  if (!assets.has(INDEX)) {
    throw new Error(
      `The dashboard has no ${INDEX} in ${directory}; run "npm run build", which copies src/dashboard there.`,
    );
  }
  return assets;
}

/** The page's own folder URL path (`/api/dashboard/`), from a request for the page under any route prefix. */
export function dashboardBasePath(requestUrl: string): string {
  const pathname = new URL(requestUrl).pathname;
  const segment = '/dashboard';
  const at = pathname.toLowerCase().lastIndexOf(segment);
  return at === -1 ? '/' : `${pathname.slice(0, at + segment.length)}/`;
}

const escapeAttribute = (value: string): string =>
  value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

const etagOf = (body: string): string =>
  `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;

function respond(request: HttpRequest, body: string, headers: Record<string, string>): HttpResponseInit {
  const etag = etagOf(body);
  const cached = request.headers.get('if-none-match');
  const common = { ...SECURITY_HEADERS, ...headers, etag, 'cache-control': 'no-cache' };
  if (cached !== null && cached.split(',').some((tag) => tag.trim() === etag)) {
    return { status: 304, headers: common };
  }
  return { status: 200, headers: common, body };
}

/**
 * `GET /api/dashboard` and `/api/dashboard/{*path}`: the operator dashboard's page and assets. The shell is
 * anonymous and holds no data; every call it makes to the operator API carries the admin key.
 */
export function createServeDashboard(deps: ServeDashboardDeps): HttpHandler {
  let assets: ReadonlyMap<string, Asset> | undefined;
  // eslint-disable-next-line @typescript-eslint/require-await -- HttpHandler returns a promise
  return async (request: HttpRequest): Promise<HttpResponseInit> => {
    try {
      // Loaded on first use: a missing folder breaks the dashboard, not the business API.
      assets ??= loadDashboardAssets(deps.assetsDirectory);
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      return problemResponse(problem('dashboard-unavailable', 500, 'Dashboard unavailable', detail));
    }
    const name = request.params.path ?? '';
    if (name === '' || name === INDEX) {
      const page = assets.get(INDEX)?.body ?? '';
      const body = page.replace(BASE_TOKEN, escapeAttribute(dashboardBasePath(request.url)));
      return respond(request, body, {
        'content-type': CONTENT_TYPES['.html'] ?? '',
        'content-security-policy': CONTENT_SECURITY_POLICY,
        'x-frame-options': 'DENY',
      });
    }
    const asset = ASSET_NAME.test(name) ? assets.get(name) : undefined;
    if (!asset) {
      return problemResponse(
        problem('unknown-asset', 404, 'Not found', `The dashboard has no file "${name}".`),
      );
    }
    return respond(request, asset.body, { 'content-type': asset.contentType });
  };
}
