//! The wire contract between console and gateway: stream envelopes, topics, event payloads,
//! REST bodies and errors. Both sides depend on this module and on nothing of each other.
//! docs/protocol.md and docs/openapi.yaml describe the same shapes for humans and tools.

mod audit;
mod auth;
mod events;
mod rest;
mod runs;
mod stream;

pub use audit::*;
pub use auth::*;
pub use events::*;
pub use rest::*;
pub use runs::*;
pub use stream::*;

/// Version of the stream protocol announced in `hello`.
pub const PROTOCOL_VERSION: u32 = 1;

/// A per-topic sequence number: the gateway increases it by exactly one per event on a topic.
pub type Seq = u64;
