//! Configuration: routes.toml's shape (`file`), its validation into a route table (`build`, with
//! the table hash over routes.toml and its copybooks), and the control plane that changes the
//! running table: `reload` (one lock, one path), `change` (admin changes to the running table),
//! `edit` (comment-keeping patches, atomic writes), `watch` (file and SIGHUP triggers), `diff`,
//! and `shadow_idle` (shadows that compare nothing because they point at the side answering).

pub mod build;
pub mod diff;
pub mod edit;
pub mod shadow_idle;

pub use build::{load, ConfigError, ConfigProblem};
