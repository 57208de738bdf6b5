//! fc-runtime: the `no_std` core every fc-aot engine and tool builds on.
#![no_std]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(test)]
extern crate std;

pub mod format;
pub mod insn;
