//! ficus — a strangler-fig gateway for mainframe fixed-width messages (전문).
//!
//! ```text
//! channel ──► listen ──► frame ──► header ──► route ──► upstream ──► (encode) ──► channel
//!  (HTTP or TCP)          (bytes)   (op code)  (snapshot)  legacy | modern
//!                                                   └──► shadow (spawned, bounded, compared)
//! ```
//!
//! The pure core is [`copybook`] (text → layout) and [`codec`] (layout + bytes ⇄ values/JSON);
//! it does no I/O. Everything else is the runtime around it.

pub mod codec;
pub mod copybook;
