CREATE TABLE "app_log" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "app_log_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"event_seq" bigint NOT NULL,
	"entity_type" text NOT NULL,
	"action" text NOT NULL,
	CONSTRAINT "app_log_event_seq_key" UNIQUE("event_seq")
);
--> statement-breakpoint
CREATE TABLE "consumer_offsets" (
	"consumer_id" text PRIMARY KEY NOT NULL,
	"offset" bigint NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "events" (
	"seq" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "events_seq_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"event_id" uuid NOT NULL,
	"originator_id" text NOT NULL,
	"version" bigint NOT NULL,
	"entity_type" text NOT NULL,
	"event_type" text NOT NULL,
	"payload" text NOT NULL,
	"metadata" jsonb NOT NULL,
	"occurred_on_seconds" bigint NOT NULL,
	"occurred_on_nanos" integer NOT NULL,
	CONSTRAINT "events_event_id_key" UNIQUE("event_id"),
	CONSTRAINT "events_originator_version_key" UNIQUE("originator_id","version")
);
--> statement-breakpoint
ALTER TABLE "app_log" ADD CONSTRAINT "app_log_event_seq_events_seq_fk" FOREIGN KEY ("event_seq") REFERENCES "public"."events"("seq") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "app_log_entity_type_id_idx" ON "app_log" USING btree ("entity_type","id");--> statement-breakpoint
CREATE INDEX "app_log_action_id_idx" ON "app_log" USING btree ("action","id");