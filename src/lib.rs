//! ficus — a strangler-fig gateway for mainframe fixed-width messages (전문).
//!
//! ```text
//! channel ──► listen ──► frame ──► header ──► route ──► upstream ──► (encode) ──► channel
//!  (HTTP or TCP)          (bytes)   (op code)  (snapshot)  legacy | modern
//!                                                   └──► shadow (spawned, bounded, compared)
//! ```
//!
//! - listen: [`server`] (HTTP with hyper, framed TCP with tokio);
//! - frame: [`frame`] (length prefix, or digits in a header field);
//! - header: [`header`] (the common header read with the [`codec`], only what routing needs);
//! - route: [`route`] (one immutable [`route::RouteTable`] per message, from [`config`]);
//! - upstream: [`upstream`] (legacy TCP pool / HTTP, and JSON services);
//! - the pipeline tying them together: [`gateway`]; errors on the wire: [`reply`].
//!
//! The pure core is [`copybook`] (text → layout) and [`codec`] (layout + bytes ⇄ values/JSON);
//! it does no I/O. [`sim`] holds the demo's simulated host and new service.

pub mod admin;
pub mod cli;
pub mod codec;
pub mod config;
pub mod copybook;
pub mod demo;
pub mod frame;
pub mod gateway;
pub mod header;
pub mod reply;
pub mod route;
pub mod server;
pub mod shadow;
pub mod sim;
pub mod upstream;
