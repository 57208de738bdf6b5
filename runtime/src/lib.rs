//! fc-runtime: the `no_std` core every fc-aot engine and tool builds on.
#![no_std]
#![deny(clippy::undocumented_unsafe_blocks)]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(test)]
extern crate std;

#[cfg(feature = "alloc")]
pub mod env;
pub mod error;
#[cfg(feature = "alloc")]
pub mod fallible;
pub mod format;
pub mod helpers;
pub mod insn;
#[cfg(feature = "alloc")]
pub mod interp;
pub mod memory;
#[cfg(feature = "alloc")]
pub mod native;
pub mod stores;
pub mod text;
#[cfg(feature = "alloc")]
pub mod verifier;
#[cfg(feature = "alloc")]
pub mod vm;

#[cfg(feature = "alloc")]
pub use vm::VirtualMachine;
pub use error::{error_string, ErrorCode};
