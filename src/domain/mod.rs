//! The pure core: types, rules and words. No IO, no async, no database, no platform crates;
//! every function that needs the time takes `now` as a parameter.

pub mod action;
pub mod assignment;
pub mod audit;
pub mod audit_verify;
pub mod calendar;
pub mod command;
pub mod credit;
pub mod credit_command;
pub mod digest;
pub mod duration;
pub mod escalation;
pub mod identity;
pub mod ids;
pub mod inbound;
pub mod mention;
pub mod messages;
pub mod money;
pub mod policy;
pub mod reply;
pub mod request;
pub mod request_command;
pub mod severity;
pub mod sla;
pub mod sla_policy;
pub mod triage;
