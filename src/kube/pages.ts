/** A listing read page by page (limit/continue), bounded in pages. */
import { DEFAULTS } from '../config/defaults.js';

/** Pages of one listing at most: at the default page size, far more Backups or Nodes than anyone keeps. */
export const MAX_LIST_PAGES = 200;

/** Follows `metadata.continue` from page to page; a custom-object list is the API's JSON as is. */
export async function listPages(page: (query: { limit: number; _continue?: string }) => Promise<unknown>): Promise<unknown[]> {
  return (await versionedPages(page)).items;
}

/** listPages, with the listing's resourceVersion (from its last page), where a watch can start. */
export async function versionedPages(
  page: (query: { limit: number; _continue?: string }) => Promise<unknown>,
): Promise<{ items: unknown[]; resourceVersion?: string }> {
  const items: unknown[] = [];
  let next: string | undefined;
  for (let n = 0; n < MAX_LIST_PAGES; n++) {
    const list = (await page({ limit: DEFAULTS.kube.pageSize, ...(next ? { _continue: next } : {}) })) as {
      items?: unknown;
      metadata?: { continue?: unknown; resourceVersion?: unknown };
    };
    if (Array.isArray(list.items)) items.push(...(list.items as unknown[]));
    const token = list.metadata?.continue;
    if (typeof token !== 'string' || token === '') {
      const version = list.metadata?.resourceVersion;
      return { items, ...(typeof version === 'string' && version !== '' ? { resourceVersion: version } : {}) };
    }
    next = token;
  }
  throw new Error(`the listing goes on beyond ${MAX_LIST_PAGES} pages of ${DEFAULTS.kube.pageSize}`);
}

/** The same for client-node's typed lists (`metadata._continue`); `what` names the listing in the error. */
export async function typedPages<T>(
  what: string,
  pageSize: number,
  list: (page: { limit: number; _continue?: string }) => Promise<{ items: T[]; metadata?: { _continue?: string } }>,
): Promise<T[]> {
  const items: T[] = [];
  let next: string | undefined;
  for (let n = 0; n < MAX_LIST_PAGES; n++) {
    const page = await list({ limit: pageSize, ...(next ? { _continue: next } : {}) });
    items.push(...page.items);
    next = page.metadata?._continue || undefined;
    if (!next) return items;
  }
  throw new Error(`the ${what} listing goes on beyond ${MAX_LIST_PAGES} pages of ${pageSize}`);
}
