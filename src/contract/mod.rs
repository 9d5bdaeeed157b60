//! The contract of a new service, generated from the copybooks: the JSON Schema (2020-12) of a
//! record as ficus writes and reads it ([`schema`]), and the OpenAPI 3.1 document of the JSON
//! protocol a service behind `kind = "http-json"` must speak ([`openapi`]).
//!
//! Pure: plans and layouts in, `serde_json::Value` out; reading routes.toml and copybooks and
//! writing files is the CLI's (`ficus openapi`, `ficus schema`). The schemas are generated from
//! the compiled [`crate::codec::Plan`] — the same list of ops decode and encode walk — so every
//! key, nesting and FILLER rule is the codec's own, never a second reading of the copybook.
//!
//! # Two directions
//!
//! [`Direction::Decoded`] is the JSON ficus *writes* when it decodes a record (the `request` a
//! service receives): every key present, REDEFINES views included (a view whose bytes do not
//! fit its picture is `null`), no other key. [`Direction::Encoded`] is the JSON ficus *accepts*
//! to encode a record (the `response` a service sends back): every named field required (none
//! with `fill_missing = true` on the route), REDEFINES as a `oneOf`, other keys ignored.
//!
//! # Rules (picture → JSON Schema)
//!
//! Picture and usage rules are IBM Enterprise COBOL for z/OS, Language Reference, "PICTURE
//! clause" (symbols 9, S, V, P; categories), "USAGE clause" (DISPLAY, COMP-3, BINARY/COMP/COMP-4,
//! COMP-5, COMP-1/COMP-2, NATIONAL, DISPLAY-1), "OCCURS clause", "REDEFINES clause" and
//! "Level-88 condition-name entries"; the JSON side is ficus's codec (`codec::json`, `codec::encode`).
//!
//! - `PIC X`, `A`, numeric-edited: `string`, `maxLength` = character positions (a text is
//!   written without its trailing spaces). `x-cobol-bytes` gives the bytes; on a code page with
//!   double-byte characters (cp949, cp933, cp1364) `x-ficus-dbcs-mixed: true` says a Korean
//!   character takes two bytes (and SO/SI one each on EBCDIC), so fewer characters fit.
//! - `PIC N` (NATIONAL, UTF-16): `maxLength` = characters, `x-cobol-bytes` = 2 a character,
//!   `x-cobol-national: true`. `PIC G` / `N` DISPLAY-1 (DBCS without SO/SI): the same with
//!   `x-cobol-dbcs: true`.
//! - `PIC S9(d)V9(s)` DISPLAY, COMP-3: a JSON number written as exact decimal text.
//!   Scale ≤ 0 → `integer`; scale > 0 → `number` with `multipleOf` 10^-scale; a `P` scaling
//!   (negative scale) → `multipleOf` 10^-scale too. `maximum` = (10^d − 1)·10^-scale,
//!   `minimum` = −maximum, or 0 without `S`.
//! - BINARY/COMP/COMP-4: encode keeps to the picture's digits (TRUNC(STD)); decode accepts
//!   whatever the storage holds, so [`Direction::Decoded`] bounds are the storage's
//!   (2, 4 or 8 bytes). COMP-5 always holds its storage's range.
//! - COMP-1 / COMP-2: `number`, no bounds (`x-cobol-usage` says which).
//! - Group: `object` with one property per named field (FILLER is never a key; a FILLER group's
//!   named fields belong to the enclosing object; an unnamed table holding named fields is
//!   `FILLER-1`, `FILLER-2`…, as the codec shows it).
//! - `OCCURS n`: `array` with `minItems` = `maxItems` = n. `OCCURS m TO n DEPENDING ON C`:
//!   `minItems` m, `maxItems` n, `x-cobol-depending-on` the counter's path; ficus requires the
//!   counter to equal the array's length (not expressible in JSON Schema).
//! - REDEFINES: every view is a property. [`Direction::Encoded`]: a `oneOf` per set whose
//!   branch k is "view k present and no earlier view present" (ficus writes the first view
//!   present), listed under `allOf`; `x-cobol-redefines` names the set's views in order.
//! - Level 88: `x-cobol-88` maps each condition name to its value (or values; a `THRU` range
//!   as `{"from", "thru"}`). Conditions do not restrict a field in COBOL, nor in ficus, so by
//!   default they are no `enum`; [`Options::enum_88`] makes them one (closing the contract).
//! - Every elementary field carries `x-cobol-picture` (as written) and `x-cobol-usage`.

pub mod annotate;
mod numbers;
pub mod openapi;
pub mod rust;
#[cfg(test)]
mod rust_tests;
pub mod scaffold;
pub mod schema;

pub use openapi::{document, Contract, HeaderRoles, Operation};
pub use schema::{record_schema, Direction, Options};
