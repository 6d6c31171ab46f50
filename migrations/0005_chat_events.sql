ALTER TABLE "conversation_members" ADD COLUMN "cleared_seq" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "conversation_members" ADD COLUMN "hidden_seq" bigint;--> statement-breakpoint
ALTER TABLE "conversations" ADD COLUMN "deleted_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "files" ADD COLUMN "deleted_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "ref_id" uuid;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "ref_seq" bigint;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "system" jsonb;