//! The pure core: types, rules and words. No IO, no async, no database, no platform crates;
//! every function that needs the time takes `now` as a parameter.

pub mod audit;
pub mod command;
pub mod identity;
pub mod ids;
pub mod inbound;
pub mod messages;
pub mod reply;
