import type { Params } from '../php-params.js';
import type { PortalState } from '../portal-state.js';

export interface MethodContext {
  readonly state: PortalState;
  /** The user the call runs as: the webhook's creator or the token's user. */
  readonly callerId: number;
  /** Request parameters minus `auth`; im.* handlers upper-case the keys themselves. */
  readonly params: Params;
  readonly nowMs: number;
  /** `im.dialog.users.list` pages lose this many trailing items (the short-page fault). */
  readonly shortPageDrop: number;
  /** `im.recent.list` OFFSET pages start this many items early. */
  readonly recentListPageOverlap: number;
}

/** A method's answer: `total`/`next` go to the top level of the envelope (docs/bitrix24.md §2). */
export interface MethodAnswer {
  readonly result: unknown;
  readonly total?: number;
  readonly next?: number;
}

export type MethodHandler = (context: MethodContext) => MethodAnswer;
