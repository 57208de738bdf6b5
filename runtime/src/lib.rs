//! fc-runtime: the `no_std` core every fc-aot engine and tool builds on.
#![no_std]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(test)]
extern crate std;

pub mod error;
pub mod format;
pub mod helpers;
pub mod insn;
#[cfg(feature = "alloc")]
pub mod interp;
pub mod memory;
#[cfg(feature = "alloc")]
pub mod verifier;
