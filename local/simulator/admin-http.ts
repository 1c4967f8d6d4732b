import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SimClock } from './bitrix-time.js';
import type { FaultQueue } from './faults.js';
import { sendJson } from './http-answers.js';
import type { PortalState } from './portal-state.js';
import type { Fault, NewChat, NewUser, SimulatorStats } from './types.js';

export interface AdminSurfaceDependencies {
  readonly state: PortalState;
  readonly faults: FaultQueue;
  readonly stats: () => SimulatorStats;
  readonly setCompetingLoad: (requestsPerSecond: number) => void;
  readonly clock: SimClock;
}

function isLoopback(address: string | undefined): boolean {
  return address === '127.0.0.1' || address === '::1' || address === '::ffff:127.0.0.1';
}

function idList(value: unknown): number[] {
  if (!Array.isArray(value) || !value.every((v) => Number.isInteger(v))) {
    throw new Error('expected an array of integer IDs');
  }
  return value as number[];
}

function chatJson(state: PortalState, id: number) {
  const chat = state.chat(id);
  return chat && { ...chat, memberIds: chat.memberIds };
}

/**
 * `/_admin/…`: JSON control of the portal for out-of-process callers (no auth, loopback only).
 *
 * - `POST /_admin/users` NewUser → SimUser; `POST /_admin/users/{id}/active` `{active}`
 * - `POST /_admin/chats` NewChat → SimChat; `GET /_admin/chats/{id}`; `DELETE /_admin/chats/{id}`
 * - `POST /_admin/chats/{id}/members` `{add?: number[], remove?: number[], silent?, bySelf?}`
 *   → SimChat (`silent`/`bySelf`: see MembershipChangeOptions)
 * - `POST /_admin/chats/{id}/messages` (an ordinary message: the chat moves up recent lists)
 * - `POST /_admin/settings` `{generalChatMessages: boolean}`; `POST /_admin/clock` `{advanceMs}`
 * - `POST /_admin/faults` Fault; `DELETE /_admin/faults`; `GET /_admin/stats`
 * - `POST /_admin/load` `{requestsPerSecond}`: other integrations' load on the bucket
 */
export function handleAdmin(
  deps: AdminSurfaceDependencies,
  req: IncomingMessage,
  res: ServerResponse,
  pathname: string,
  body: unknown,
): void {
  if (!isLoopback(req.socket.remoteAddress)) {
    sendJson(res, 403, { error: 'loopback only' });
    return;
  }
  try {
    const [status, answer] = route(
      deps,
      `${req.method ?? 'GET'} ${pathname.replace(/\/+$/, '')}`,
      body,
    );
    sendJson(res, status, answer);
  } catch (error) {
    sendJson(res, 400, { error: error instanceof Error ? error.message : String(error) });
  }
}

function route(deps: AdminSurfaceDependencies, route: string, body: unknown): [number, unknown] {
  const { state } = deps;
  const input = (body ?? {}) as Record<string, unknown>;
  const id = Number(/\/(\d+)(?:\/|$)/.exec(route)?.[1] ?? 0);
  if (route === 'POST /_admin/users') return [201, state.addUser(input as NewUser)];
  if (/^POST \/_admin\/users\/\d+\/active$/.test(route)) {
    state.setUserActive(id, input.active === true);
    return [200, state.user(id)];
  }
  if (route === 'POST /_admin/chats') {
    const created = state.createChat(input as unknown as NewChat);
    return [201, chatJson(state, created.id)];
  }
  if (/^GET \/_admin\/chats\/\d+$/.test(route)) {
    const chat = chatJson(state, id);
    return chat ? [200, chat] : [404, { error: `no chat ${id}` }];
  }
  if (/^DELETE \/_admin\/chats\/\d+$/.test(route)) {
    state.deleteChat(id);
    return [200, { deleted: id }];
  }
  if (/^POST \/_admin\/chats\/\d+\/members$/.test(route)) {
    const options = { silent: input.silent === true, bySelf: input.bySelf === true };
    if (input.add !== undefined) state.addMembers(id, idList(input.add), options);
    if (input.remove !== undefined) state.removeMembers(id, idList(input.remove), options);
    return [200, chatJson(state, id)];
  }
  if (/^POST \/_admin\/chats\/\d+\/messages$/.test(route)) {
    state.postMessage(id);
    return [201, chatJson(state, id)];
  }
  if (route === 'POST /_admin/settings') {
    if (typeof input.generalChatMessages !== 'boolean') {
      throw new Error('expected {"generalChatMessages": true|false}');
    }
    state.setGeneralChatMessages(input.generalChatMessages);
    return [200, { generalChatMessages: input.generalChatMessages }];
  }
  if (route === 'POST /_admin/clock') {
    const advanceMs = input.advanceMs;
    if (typeof advanceMs !== 'number' || !(advanceMs >= 0)) {
      throw new Error('expected {"advanceMs": a non-negative number}');
    }
    deps.clock.advance(advanceMs);
    return [200, { nowMs: deps.clock.nowMs() }];
  }
  if (route === 'POST /_admin/faults') {
    deps.faults.inject(input as unknown as Fault);
    return [201, { pending: deps.faults.pending() }];
  }
  if (route === 'DELETE /_admin/faults') {
    deps.faults.clear();
    return [200, { pending: 0 }];
  }
  if (route === 'GET /_admin/stats') return [200, deps.stats()];
  if (route === 'POST /_admin/load') {
    if (typeof input.requestsPerSecond !== 'number') {
      throw new Error('expected { "requestsPerSecond": number }');
    }
    deps.setCompetingLoad(input.requestsPerSecond);
    return [200, { requestsPerSecond: input.requestsPerSecond }];
  }
  return [404, { error: `no admin route ${route}` }];
}
