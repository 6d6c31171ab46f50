/** Shapes of the server's JSON (see the OpenAPI document at /swagger/json). */
export type User = {
  id: string;
  username: string;
  display_name: string | null;
  bio?: string | null;
  email?: string;
  created_at?: string;
  last_active: string | null;
  online?: boolean;
  avatar_url?: string | null;
  /** GET /users/me only. */
  unread_notifications?: number;
};

export type SessionReply = { user: User; access_token: string; refresh_token: string; token_type: string; expires_in: number };

// Type-only: erased from the browser bundle, so the client and the server share one definition.
import type { ChatMessage } from "../../engine/types";
export type Message = ChatMessage;

export type Peer = { id: string; username: string; display_name: string | null; online: boolean; last_active: string | null; avatar_url?: string | null };

export type Conversation = {
  id: string;
  kind: "direct" | "room";
  name: string | null;
  peer: Peer | null;
  last_seq: number;
  last_read_seq: number;
  unread: number;
  last_message: Message | null;
  last_activity: string;
};

export type Room = {
  id: string;
  name: string;
  description: string | null;
  is_private: boolean;
  owner_id: string | null;
  owner: { id: string; username: string; display_name: string | null } | null;
  member_count: number;
  is_member: boolean;
  created_at: string;
  members?: { user_id: string; username: string; display_name: string | null; role: string; joined_at: string; avatar_url?: string | null }[];
};

export type History = { conversation_id: string; messages: Message[]; has_more: boolean };

export type ProblemStats = { submissions: number; accepted: number; acceptance_rate: number | null; solvers: number };
export type ProblemSummary = { id: string; title: string; difficulty: string; pack?: string; solved?: boolean; stats?: ProblemStats };
export type Column = { name: string; type?: string };
export type TableInfo = { name: string; columns: Column[]; sample?: { columns: string[]; rows: unknown[][] } };
export type Problem = ProblemSummary & {
  statement: string; tables?: TableInfo[]; schema?: string;
  hints?: string[]; expected_preview?: { columns: Column[]; rows: unknown[][]; total_rows: number } | null; solution?: string | null;
};
/** POST /problems/run: the query's own result, no verdict. */
export type RunResult = { columns: (Column | string)[]; rows: unknown[][]; rows_returned?: number; truncated?: boolean; duration_ms?: number; error?: { message: string; position?: number | null; sqlstate?: string | null; hint?: string | null } | null };

export type JobResult = {
  job_id: string;
  problem_id: string;
  status: "queued" | "processing" | "completed" | "failed";
  verdict: string | null;
  rows_returned: number | null;
  columns: Column[] | null;
  rows: unknown[][] | null;
  duration_ms: number | null;
  error: string | null;
  sqlstate?: string | null;
  position?: number | null;
  created_at?: string;
  finished_at?: string | null;
};

export type Submission = Partial<JobResult> & { id?: string; job_id?: string; problem_id: string; problem_title?: string; sql_query?: string; status: string; created_at?: string };
