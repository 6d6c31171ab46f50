ALTER TABLE "problems" ADD COLUMN "hints" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "problems" ADD COLUMN "show_expected" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "submissions" ADD COLUMN "client_id" uuid;--> statement-breakpoint
CREATE UNIQUE INDEX "submissions_user_client_idx" ON "submissions" USING btree ("user_id","client_id");