//! Shadow traffic: mirror a message to the other side, compare the two replies as COBOL values,
//! and record what differs — without ever delaying or failing the primary.
//!
//! `mirror` spawns one task per sampled message under a global cap (excess is dropped and
//! counted) with its own time budget; `compare` is the field-by-field comparison; `stats` the
//! per-operation counters behind `GET /shadow`; `noise` tells noise (the primary itself varies
//! for the same request) from findings (a difference that repeats), with `delta` the numeric
//! differences; `record` the JSON Lines records; `report` turns records into a terminal
//! summary and an HTML page; `capture` records traffic for `replay`; `store` keeps records and
//! captures in PostgreSQL instead, one place for every replica.

pub mod capture;
pub mod compare;
pub mod delta;
pub mod mirror;
pub mod noise;
pub mod paths;
pub mod record;
pub mod report;
pub mod stats;
pub mod store;
pub mod window;

use crate::codec::Codec;
use std::sync::Arc;

/// How a route's replies are compared (live shadow and replay alike).
pub struct Comparison {
    /// What to leave out and how close numbers must be.
    pub rules: compare::Rules,
    /// Fields whose values records hash.
    pub mask: Vec<paths::PathPattern>,
    /// The header layout, decoding leniently (an invalid field is a difference, not a failure).
    pub header: Arc<Codec>,
    /// The response layout, decoding leniently.
    pub response: Arc<Codec>,
}
