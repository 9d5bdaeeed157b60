//! Configuration: routes.toml's shape (`file`), and its validation into a route table (`build`).

pub mod build;
pub mod file;

pub use build::{load, ConfigError, ConfigProblem};
pub mod diff;
pub mod edit;
pub mod reload;
pub mod watch;
