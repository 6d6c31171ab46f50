/**
 * PostgreSQL is the system of record (DESIGN §4.2). Redis only holds what is
 * hot; everything here survives a Redis loss. Ids are UUIDv7 so they sort by
 * creation time. The same schema runs on postgres.js and on PGlite.
 */
import { sql } from "drizzle-orm";
import {
  bigint, boolean, customType, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid,
} from "drizzle-orm/pg-core";

const tsvector = customType<{ data: string }>({ dataType: () => "tsvector" });

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });
const createdAt = () => ts("created_at").notNull().defaultNow();

export const users = pgTable("users", {
  id: uuid("id").primaryKey(),
  username: text("username").notNull(),
  email: text("email").notNull(),
  passwordHash: text("password_hash").notNull(),
  displayName: text("display_name"),
  bio: text("bio"),
  createdAt: createdAt(),
  lastActive: ts("last_active"),
  // Access tokens carry the generation they were issued in; a password change raises it, which
  // refuses every older access token before it expires (src/modules/auth/generations.ts).
  tokenGeneration: integer("token_generation").notNull().default(0),
  // The avatar: a storage key (src/modules/files/storage.ts) holding one 128 px square, its type,
  // and when it changed (the avatar_url carries it, so a new picture is a new URL for caches).
  avatarKey: text("avatar_key"),
  avatarType: text("avatar_type"),
  avatarUpdatedAt: ts("avatar_updated_at"),
  // Email digests of unread notifications (SMTP_URL): the user's opt-out, and when the last one went.
  emailNotifications: boolean("email_notifications").notNull().default(true),
  lastDigestAt: ts("last_digest_at"),
}, (u) => [
  // Case-insensitive uniqueness: "Alice" and "alice" are the same account.
  uniqueIndex("users_username_lower_uq").on(sql`lower(${u.username})`),
  uniqueIndex("users_email_lower_uq").on(sql`lower(${u.email})`),
]);

export const refreshTokens = pgTable("refresh_tokens", {
  id: uuid("id").primaryKey(),
  userId: uuid("user_id").notNull().references(() => users.id, { onDelete: "cascade" }),
  // Every rotation stays in one family so reuse of a revoked token can revoke them all.
  familyId: uuid("family_id").notNull(),
  tokenHash: text("token_hash").notNull(),
  expiresAt: ts("expires_at").notNull(),
  revokedAt: ts("revoked_at"),
  createdAt: createdAt(),
}, (r) => [
  uniqueIndex("refresh_tokens_hash_uq").on(r.tokenHash),
  index("refresh_tokens_family_idx").on(r.familyId),
  // A password change revokes every live token of the user.
  index("refresh_tokens_user_live_idx").on(r.userId).where(sql`${r.revokedAt} is null`),
]);

export const conversations = pgTable("conversations", {
  id: uuid("id").primaryKey(),
  kind: text("kind", { enum: ["direct", "room"] }).notNull(),
  name: text("name"),
  description: text("description"),
  isPrivate: boolean("is_private").notNull().default(false),
  ownerId: uuid("owner_id").references(() => users.id, { onDelete: "set null" }),
  // "low-uuid:high-uuid" for direct conversations: one conversation per pair, whatever the order.
  directKey: text("direct_key"),
  lastSeq: bigint("last_seq", { mode: "number" }).notNull().default(0),
  lastMessageAt: ts("last_message_at"),
  createdAt: createdAt(),
  // A deleted room keeps its row (members and messages go) so outbox entries still in flight
  // for it are dropped by the persister instead of becoming dead letters.
  deletedAt: ts("deleted_at"),
}, (c) => [
  uniqueIndex("conversations_direct_key_uq").on(c.directKey),
  index("conversations_public_rooms_idx").on(c.kind, c.isPrivate),
]);

export const conversationMembers = pgTable("conversation_members", {
  conversationId: uuid("conversation_id").notNull().references(() => conversations.id, { onDelete: "cascade" }),
  userId: uuid("user_id").notNull().references(() => users.id, { onDelete: "cascade" }),
  role: text("role", { enum: ["owner", "admin", "member"] }).notNull().default("member"),
  joinedAt: ts("joined_at").notNull().defaultNow(),
  lastReadSeq: bigint("last_read_seq", { mode: "number" }).notNull().default(0),
  // "Clear my history": this member sees only seqs above it (history, resume, search, unread).
  clearedSeq: bigint("cleared_seq", { mode: "number" }).notNull().default(0),
  // "Leave a direct conversation": hidden from this member's list until the conversation passes this seq.
  hiddenSeq: bigint("hidden_seq", { mode: "number" }),
  // POST /chat/conversations/{id}/mute: no notifications from this conversation before this time.
  mutedUntil: ts("muted_until"),
}, (m) => [
  primaryKey({ columns: [m.conversationId, m.userId] }),
  index("conversation_members_user_idx").on(m.userId),
]);

export const messages = pgTable("messages", {
  id: uuid("id").primaryKey(),
  conversationId: uuid("conversation_id").notNull().references(() => conversations.id, { onDelete: "cascade" }),
  seq: bigint("seq", { mode: "number" }).notNull(),
  senderId: uuid("sender_id").notNull().references(() => users.id),
  receiverId: uuid("receiver_id").references(() => users.id),
  content: text("content").notNull(),
  // edit and delete rows are events of the seq log: `ref_id` names the message they change.
  messageType: text("message_type", { enum: ["text", "file", "system", "edit", "delete"] }).notNull().default("text"),
  clientId: text("client_id"),
  timestamp: ts("timestamp").notNull(),
  editedAt: ts("edited_at"),
  deletedAt: ts("deleted_at"),
  refId: uuid("ref_id"),
  refSeq: bigint("ref_seq", { mode: "number" }),
  // System lines: {kind, actor_id, target_id, role?, name?}.
  system: jsonb("system"),
  // Full-text search (GET /chat/search) over what people wrote: text messages only; a deleted
  // message's content is blanked, so it leaves the index with it. 'simple': no language stemming.
  search: tsvector("search").generatedAlwaysAs(sql`case when message_type = 'text' then to_tsvector('simple'::regconfig, content) end`),
  // Users named as @username in a room message (src/modules/chat/mentions.ts); null: none.
  mentions: jsonb("mentions").$type<string[]>(),
}, (m) => [
  index("messages_search_idx").using("gin", m.search),
  uniqueIndex("messages_conversation_seq_uq").on(m.conversationId, m.seq),
  uniqueIndex("messages_idempotency_uq").on(m.conversationId, m.senderId, m.clientId),
]);

export const packs = pgTable("packs", {
  id: text("id").primaryKey(),
  title: text("title").notNull(),
  schema: text("schema").notNull(),
  datasetSha256: text("dataset_sha256").notNull(),
  // Kept so an in-memory sandbox (PGlite) can be rebuilt at every start.
  dataset: text("dataset").notNull().default(""),
  // [{name, columns: [{name, type}], sample: {columns, rows}}] for the problem page.
  tables: jsonb("tables").notNull().default([]),
  importedAt: ts("imported_at").notNull().defaultNow(),
});

export const problems = pgTable("problems", {
  id: text("id").primaryKey(),
  packId: text("pack_id").notNull().references(() => packs.id, { onDelete: "cascade" }),
  position: integer("position").notNull().default(0),
  title: text("title").notNull(),
  difficulty: text("difficulty", { enum: ["easy", "medium", "hard"] }).notNull(),
  statement: text("statement").notNull(),
  solution: text("solution").notNull(),
  ordered: boolean("ordered").notNull().default(false),
  // {columns, rows} computed from `solution` at import time.
  expected: jsonb("expected").notNull(),
  // pack.json `hints` (revealed one at a time) and `show_expected` (a preview of `expected` on the page).
  hints: jsonb("hints").$type<string[]>().notNull().default([]),
  showExpected: boolean("show_expected").notNull().default(false),
  // Hidden test datasets: [{name, setup (path), setup_sql, schema, expected}]; setup_sql rebuilds a PGlite sandbox.
  tests: jsonb("tests").notNull().default([]),
  createdAt: createdAt(),
}, (p) => [index("problems_pack_idx").on(p.packId, p.position)]);

export const submissions = pgTable("submissions", {
  id: uuid("id").primaryKey(),
  userId: uuid("user_id").notNull().references(() => users.id, { onDelete: "cascade" }),
  problemId: text("problem_id").notNull().references(() => problems.id, { onDelete: "cascade" }),
  sqlQuery: text("sql_query").notNull(),
  // Chosen by the client per attempt: a repeated submit (double click, retry) returns the first job.
  clientId: uuid("client_id"),
  status: text("status", { enum: ["queued", "processing", "completed", "failed"] }).notNull().default("queued"),
  verdict: text("verdict"),
  rowsReturned: integer("rows_returned"),
  durationMs: integer("duration_ms"),
  error: text("error"),
  // {columns, rows (first 100), reason?, sqlstate?, position?}: what the result page shows after the cache expires.
  result: jsonb("result"),
  attempts: integer("attempts").notNull().default(0),
  createdAt: createdAt(),
  finishedAt: ts("finished_at"),
}, (s) => [
  index("submissions_user_created_idx").on(s.userId, s.createdAt),
  index("submissions_user_problem_idx").on(s.userId, s.problemId, s.verdict),
  uniqueIndex("submissions_user_client_idx").on(s.userId, s.clientId),
]);

export const files = pgTable("files", {
  id: uuid("id").primaryKey(),
  uploaderId: uuid("uploader_id").notNull().references(() => users.id, { onDelete: "cascade" }),
  conversationId: uuid("conversation_id").notNull().references(() => conversations.id, { onDelete: "cascade" }),
  originalName: text("original_name").notNull(),
  storedName: text("stored_name").notNull(),
  contentType: text("content_type").notNull(),
  sizeBytes: bigint("size_bytes", { mode: "number" }).notNull(),
  sha256: text("sha256"),
  status: text("status", { enum: ["pending", "processing", "completed", "failed"] }).notNull().default("pending"),
  error: text("error"),
  // Set by the file worker: image dimensions, and the thumbnail's type when one was made.
  width: integer("width"),
  height: integer("height"),
  thumbnailType: text("thumbnail_type"),
  createdAt: createdAt(),
  processedAt: ts("processed_at"),
  // Set when the message carrying the file is deleted: no longer served.
  deletedAt: ts("deleted_at"),
}, (f) => [
  index("files_conversation_idx").on(f.conversationId),
  // The per-user cap on open uploads and the fair-turn check (src/modules/files/turns.ts).
  index("files_uploader_open_idx").on(f.uploaderId).where(sql`${f.status} in ('pending', 'processing')`),
  index("files_uploader_processed_idx").on(f.uploaderId, f.processedAt),
  index("files_pending_created_idx").on(f.createdAt).where(sql`${f.status} = 'pending'`),
]);

/**
 * What a user missed while offline: a mention of them, or a direct message
 * (src/modules/notifications). One per (user, message), so a job that runs
 * twice notifies once. `emailed_at` is set once a digest email carried it.
 */
export const notifications = pgTable("notifications", {
  id: uuid("id").primaryKey(),
  userId: uuid("user_id").notNull().references(() => users.id, { onDelete: "cascade" }),
  kind: text("kind", { enum: ["mention", "direct"] }).notNull(),
  conversationId: uuid("conversation_id").notNull().references(() => conversations.id, { onDelete: "cascade" }),
  messageId: uuid("message_id").notNull(),
  seq: bigint("seq", { mode: "number" }).notNull(),
  senderId: uuid("sender_id").references(() => users.id, { onDelete: "set null" }),
  excerpt: text("excerpt").notNull(),
  createdAt: createdAt(),
  readAt: ts("read_at"),
  emailedAt: ts("emailed_at"),
}, (n) => [
  uniqueIndex("notifications_user_message_uq").on(n.userId, n.messageId),
  // GET /notifications (unread first, newest first) and the unread count.
  index("notifications_user_read_idx").on(n.userId, sql`(${n.readAt} is not null)`, n.id),
  // The digest sweep: unread notifications no email has carried yet.
  index("notifications_unmailed_idx").on(n.userId).where(sql`${n.readAt} is null and ${n.emailedAt} is null`),
]);
