//! Integration tests against real PostgreSQL. One binary, so one server per run.

#[path = "../support/mod.rs"]
mod support;

mod access;
mod access_review;
mod audit;
mod audit_checkpoint_out;
mod audit_hmac;
mod audit_log;
mod audit_roles;
mod bench_rss;
mod cli;
mod console;
mod credits;
mod delivery;
mod digests;
mod digests_as_of;
mod digests_kpi;
mod digests_seed;
mod discord;
mod discord_gateway;
mod discord_outbox;
mod discord_registration;
mod escalations;
mod home;
mod http;
mod inbox;
mod incidents;
mod input_limits;
mod intake_http;
mod jobs;
mod layering;
mod onboarding;
mod outage;
mod outbox;
mod render_limits;
mod requests;
mod retention;
mod slack;
mod slack_socket;
mod slack_workspace;
