/**
 * The typed control surface of the Bitrix24 portal simulator. The simulator speaks real HTTP(S)
 * on 127.0.0.1 and must be indistinguishable from a cloud portal for the methods we use
 * (docs/bitrix24.md). This file is the contract between the simulator, the client tests, the local
 * runner and the benchmark.
 */

export interface SimUser {
  readonly id: number;
  readonly firstName: string;
  readonly lastName: string;
  readonly workPosition: string | null;
  readonly active: boolean;
  readonly bot: boolean;
  readonly extranet: boolean;
  /** `UserTable::getExternalUserTypes` value for system users ('bot', 'email', 'imconnector'...), else e.g. 'default'. */
  readonly externalAuthId: string;
}

/**
 * Chat types and what a membership change posts in each (docs/bitrix24.md, "System messages" and
 * "Silent paths"): `chat` (group chat) and `general` post `CHAT_JOIN`/`CHAT_LEAVE` system
 * messages (the general chat's leave names the member in plain text, and each kind only while
 * its portal option is on); `workgroup` (a project's chat) posts its own join text without
 * `CODE`; `open`, `channel` and `collab` post no text. A join moves the chat up its members'
 * recent lists in every type; a leave or removal only where a leave message is posted: in `chat`
 * and `workgroup` chats that are not announcements and have leave messages on, and in `general`
 * while its leave option is on.
 */
export type SimChatType = 'chat' | 'open' | 'general' | 'channel' | 'workgroup' | 'collab';

/** One stored chat message as `im.dialog.messages.get` returns it. */
export interface SimMessage {
  readonly id: number;
  readonly chatId: number;
  /** 0 for system messages (and `SYSTEM=Y` REST posts). */
  readonly authorId: number;
  readonly dateMs: number;
  readonly text: string;
  /** `CODE` of membership system messages; absent otherwise. */
  readonly code?: 'CHAT_JOIN' | 'CHAT_LEAVE';
}

export interface SimChat {
  readonly id: number;
  readonly title: string;
  readonly type: SimChatType;
  readonly ownerId: number;
  readonly announcement: boolean;
  /** Leave and removal messages (false: switched off for the chat). */
  readonly leaveMessages: boolean;
  /** Member IDs in join order (relation ID order). */
  readonly memberIds: readonly number[];
}

export interface NewUser {
  readonly id?: number;
  readonly firstName?: string;
  readonly lastName?: string;
  readonly workPosition?: string | null;
  readonly active?: boolean;
  readonly bot?: boolean;
  readonly extranet?: boolean;
  readonly externalAuthId?: string;
  /** `gender` in user items; default derived from the ID. */
  readonly gender?: 'M' | 'F';
}

export interface NewChat {
  readonly id?: number;
  readonly title?: string;
  readonly type?: SimChatType;
  readonly ownerId?: number;
  /** An announcement chat (no leave or removal posts a message). Default false. */
  readonly announcement?: boolean;
  /**
   * Leave and removal messages (default true). False models a large chat whose owner switched
   * them off (reported as the chat option `chat_user_deletion_message_disabled`; unverified).
   */
  readonly leaveMessages?: boolean;
  readonly memberIds: readonly number[];
}

/**
 * How a membership change reaches the recent lists. By default a join or leave posts a system
 * message that moves the chat up every member's recent list; these options model the paths
 * that post nothing (docs/bitrix24.md, "Recent list as change hints").
 */
export interface MembershipChangeOptions {
  /**
   * An internal call that skips the message (`skipMessage` / `skipRecent`), e.g. the department
   * structure sync, which adds and removes members without a message.
   */
  readonly silent?: boolean;
  /** The member leaves by themself (a leave text rather than a removal). */
  readonly bySelf?: boolean;
  /**
   * Who invited (join) or removed (leave) the members. A join without one is a self-join or a
   * system add ("has joined"); a leave without one (or by the member) is a leave.
   */
  readonly actorId?: number;
  /** The join came through this user's sharing link ("was invited by … and has now joined"). */
  readonly linkAuthorId?: number;
}

/** In-process administration of the simulated portal's data. */
export interface PortalAdmin {
  addUser(user?: NewUser): SimUser;
  /** Adds `count` plain users quickly; returns their IDs. */
  addUsers(count: number): number[];
  user(id: number): SimUser | undefined;
  setUserActive(id: number, active: boolean): void;
  createChat(chat: NewChat): SimChat;
  chat(id: number): SimChat | undefined;
  chats(): SimChat[];
  addMembers(chatId: number, userIds: readonly number[], options?: MembershipChangeOptions): void;
  removeMembers(
    chatId: number,
    userIds: readonly number[],
    options?: MembershipChangeOptions,
  ): void;
  /** An ordinary message: the chat moves up its members' recent lists, membership unchanged. */
  postMessage(
    chatId: number,
    options?: { readonly authorId?: number; readonly text?: string },
  ): void;
  /** The avatar-change system message: `CODE` `CHAT_LEAVE`, one user tag, no membership change. */
  changeAvatar(chatId: number, userId: number): void;
  /** The language the portal writes its system messages in (default `en`). */
  setLanguage(language: 'en' | 'ru' | 'de'): void;
  /** `im.message.add` as `authorId`; `system`: `SYSTEM=Y` (author 0, no `CODE`). */
  addRestMessage(chatId: number, authorId: number, text: string, system: boolean): SimMessage;
  /** The chat's messages, oldest first. */
  messages(chatId: number): readonly SimMessage[];
  /**
   * The general chat's join/leave auto-messages, the portal options `general_chat_message_join`
   * and `_leave` (both on here; Bitrix24's defaults are join on, leave off); off makes those
   * changes silent.
   */
  setGeneralChatMessages(on: boolean | { readonly join?: boolean; readonly leave?: boolean }): void;
  /** When the chat last moved up its members' recent lists (epoch ms); undefined: no chat. */
  recentDate(chatId: number): number | undefined;
  /** Hard-deletes a user's memberships: every relation goes, no chat posts a message. */
  deleteUserRelations(userId: number): number[];
  deleteChat(chatId: number): void;
  /** The chat whose `im.chat.user.list` answers 403 ACCESS_ERROR. */
  readonly generalChatId: number;
  /** Every user ID on the portal (active or not), ascending. */
  userIds(): number[];
}

/**
 * A fault applies to the next `times` matching requests (default 1), then disappears.
 * `method` matches the REST method name (lower-case, e.g. `batch`, `im.chat.user.list`);
 * omitted = any request. Faults apply to whole HTTP requests (a `batch` is one request).
 *
 * Inside a `batch`: a `status`, `short-page` or `malformed-result` fault whose `method` names an
 * inner command's method (not `batch`) applies to every such command of that one batch request
 * (a `status` fault becomes that command's `result_error` entry) and is consumed once.
 */
export type Fault = { readonly method?: string; readonly times?: number } & (
  | {
      readonly kind: 'status';
      readonly status: number;
      readonly error: string;
      readonly description?: string;
    }
  | { readonly kind: 'html'; readonly status?: number }
  | { readonly kind: 'empty-body'; readonly status?: number }
  | { readonly kind: 'slow'; readonly delayMs: number }
  | { readonly kind: 'drop-connection' }
  /** Expires every access token issued so far (OAuth) before the request is handled. */
  | { readonly kind: 'expire-tokens' }
  /**
   * `im.dialog.users.list` pages come back with their last `drop` items missing; `next` and
   * `total` still describe the full page, so only a client that checks counts notices.
   */
  | { readonly kind: 'short-page'; readonly drop: number }
  /** Replaces a JSON `result` (or a batch command's result) with this value. */
  | { readonly kind: 'malformed-result'; readonly result: unknown }
);

export interface FaultInjector {
  inject(fault: Fault): void;
  clear(): void;
  /** Faults not yet consumed. */
  pending(): number;
}

export interface SimulatorStats {
  /** HTTP requests that reached the REST surface (admin and OAuth excluded). */
  readonly requests: number;
  /** Per REST method (a `batch` counts once under `batch`; its commands under `batch:<method>`). */
  readonly byMethod: Readonly<Record<string, number>>;
  /** Requests answered 503 QUERY_LIMIT_EXCEEDED. */
  readonly rateLimited: number;
  /** Requests answered 429 OPERATION_TIME_LIMIT. */
  readonly operationLimited: number;
  /** Other integrations' requests counted in the bucket (`competingLoad`); not in `requests`. */
  readonly competingRequests: number;
}

export interface OAuthApp {
  readonly clientId: string;
  readonly clientSecret: string;
  /** `${baseUrl}/oauth/token/` — stands in for https://oauth.bitrix.info/oauth/token/. */
  readonly tokenEndpoint: string;
  /** Issues a fresh token pair for a user as if the app had just been installed. */
  issueTokens(userId: number): { accessToken: string; refreshToken: string; expiresIn: number };
}

export interface SimulatorOptions {
  /** Seeded data set. Default 'demo'. */
  readonly seed?: 'demo' | 'empty' | GeneratedSeed;
  /** Leaky bucket; `false` switches it off. Default 50 burst / 2 per s. */
  readonly rateLimit?: { readonly burst: number; readonly drainPerSecond: number } | false;
  /**
   * Other integrations' requests per portal second in the same bucket, evenly spaced; they always
   * get in, rising past the burst while they outrun the drain (see `leaky-bucket.ts`). Default 0.
   */
  readonly competingLoad?: number;
  /** Per-method operating budget; default off. */
  readonly operatingLimit?:
    | {
        readonly limitSeconds: number;
        /** Default 600 (ten 1-minute baskets). */
        readonly windowSeconds?: number;
        /** Simulated execution time charged per call. Default 1. */
        readonly costSeconds?: number;
      }
    | false;
  /** Simulated-time speed-up for token lifetimes, bucket drain and operating windows. Default 1. */
  readonly timeScale?: number;
  /** Serve HTTPS with a self-signed certificate for 127.0.0.1 made at start-up. Default true. */
  readonly tls?: boolean;
  /** Fixed port; default a free one. */
  readonly port?: number;
  /** Access token lifetime in (simulated) seconds. Default 3600. */
  readonly accessTokenTtlSeconds?: number;
  /**
   * Statuses on which the docs and the source disagree (docs/bitrix24.md §2); defaults follow the
   * source (401).
   */
  readonly statuses?: {
    readonly invalidCredentials?: 401 | 403;
    readonly insufficientScope?: 401 | 403;
  };
  /** Webhook creator: the user whose permissions webhook calls run with. Default 1. */
  readonly webhookUserId?: number;
  /**
   * `im.recent.list` OFFSET pages after the first start this many items early, as real pages
   * overlap when new messages arrive (docs: "page boundaries may overlap"). Default 2.
   */
  readonly recentListPageOverlap?: number;
  /** The general chat posts join/leave auto-messages (`setGeneralChatMessages`). Default true. */
  readonly generalChatMessages?: boolean;
  /** Keep the Node process alive while the server listens (the standalone CLI). Default false. */
  readonly keepProcessAlive?: boolean;
}

export interface GeneratedSeed {
  readonly chats: number;
  readonly membersPerChat: number;
  /** Extra chats with these member counts (e.g. [200_000]). */
  readonly largeChats?: readonly number[];
  /** Deterministic generator seed. */
  readonly seed?: number;
  /** Members of the general chat (id 1), the webhook user first. Default `membersPerChat`. */
  readonly generalChatMembers?: number;
  /**
   * Chat IDs of the generated chats step by 1 to this many (seeded): a real portal's chat IDs also
   * number its private dialogs and other users' chats, so they are scattered. Default 1.
   */
  readonly chatIdGap?: number;
  /**
   * Shares of the generated chats (not the large ones) that are open chats, channels,
   * announcement chats, or group chats with leave messages off; the rest are group chats.
   * Drawn per chat from the seed. Default: all group chats.
   */
  readonly mix?: {
    readonly open?: number;
    readonly channel?: number;
    readonly announcement?: number;
    readonly leaveMessagesOff?: number;
  };
}

export interface RunningSimulator {
  /** `https://127.0.0.1:PORT` (or http when tls is off). */
  readonly baseUrl: string;
  /** PEM of the self-signed certificate (trust it via an undici Agent or NODE_EXTRA_CA_CERTS). */
  readonly caCert: string | undefined;
  /** Incoming-webhook base URL ending in `/`, e.g. `https://127.0.0.1:PORT/rest/1/<code>/`. */
  readonly webhookUrl: string;
  readonly admin: PortalAdmin;
  readonly faults: FaultInjector;
  readonly oauth: OAuthApp;
  stats(): SimulatorStats;
  resetStats(): void;
  /**
   * Adds an incoming webhook acting as `userId`; returns its base URL ending in `/`. `scopes`
   * are the scopes ticked on it (default: all); the simulated methods all need `im`.
   */
  createWebhook(userId: number, options?: { readonly scopes?: readonly string[] }): string;
  /**
   * Moves the portal's clock forward (every date it reports and keeps: `time`, recent rows,
   * token lifetimes, buckets), so tests and the benchmark can let hours pass in no time.
   */
  advanceClock(ms: number): void;
  /** The portal's clock now, epoch ms. */
  nowMs(): number;
  /** Switches the leaky bucket at run time (the benchmark turns it off for CPU profiling). */
  setRateLimit(limit: { readonly burst: number; readonly drainPerSecond: number } | false): void;
  /** Sets `competingLoad` at run time, starting now (0 stops it). */
  setCompetingLoad(requestsPerSecond: number): void;
  close(): Promise<void>;
}
