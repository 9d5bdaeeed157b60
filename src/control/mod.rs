//! The control plane, above the gateway: the one reload path (`reload`: file watch, SIGHUP and
//! the admin API all funnel into it, under one lock), admin changes applied to the running table
//! (`change`), the triggers (`watch`), the audit log of applied changes (`audit`) and the last
//! rejected ones (`rejections`).
//!
//! `config` below it only parses routes.toml and builds tables; the admin API above it calls in.

pub mod audit;
pub mod change;
pub mod dir_events;
pub mod rejections;
pub mod reload;
pub mod watch;
