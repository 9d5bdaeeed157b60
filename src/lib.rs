//! ficus — a strangler-fig gateway for mainframe fixed-width messages (전문).
//!
//! ```text
//! channel ──► listen ──► frame ──► header ──► route ──► [journal] ──► upstream ──► (encode) ──► channel
//!  (HTTP or TCP)          (bytes)   (op code)  (snapshot)  writes:      legacy | modern
//!                                                           claim/dedupe
//!                                                   └──► shadow (spawned, bounded, compared)
//! ```
//!
//! - listen: [`server`] (HTTP with hyper, framed TCP with tokio);
//! - frame: [`frame`] (length prefix, or digits in a header field);
//! - header: [`header`] (the common header read once per message into one [`header::Head`]);
//! - route: [`route`] (one immutable [`route::RouteTable`] per message, built by [`config`]);
//! - journal: [`journal`] (writes on journaled routes: claimed by key once across replicas,
//!   duplicates answered from it, reversals and account owners routed by it; a paged inquiry's
//!   next page pinned by it to the upstream that served the page before);
//! - upstream: [`upstream`] (legacy TCP pool / HTTP, and JSON services; every reply correlated
//!   with its request by message id, one retry rule, shadows on spare capacity only);
//! - the pipeline tying them together: [`gateway`]; errors on the wire: [`reply`].
//!
//! Above the pipeline: [`control`] (reload, admin changes, audit), [`admin`] (the admin API),
//! [`server`] (listeners), [`replay`]. Lower modules never import upper ones
//! (`tests/layers.rs` checks it): core → frame → header → journal → upstream → shadow → route → config →
//! gateway → control → admin → server.
//!
//! The pure core is [`copybook`] (text → layout) and [`codec`] (layout + bytes ⇄ values/JSON);
//! it does no I/O. [`sim`] holds the demo's simulated host and new service.
//! [`contract`] turns the compiled layouts into the JSON Schema / OpenAPI contract of a new
//! service (pure, like the core).

pub mod admin;
pub mod cli;
pub mod codec;
pub mod config;
pub mod contract;
pub mod control;
pub mod copybook;
pub mod demo;
pub mod drain;
pub mod frame;
pub mod gateway;
pub mod header;
pub mod journal;
pub mod replay;
pub mod reply;
pub mod route;
pub mod server;
pub mod shadow;
pub mod sim;
pub mod telemetry;
pub mod upstream;
