//! fc-aot: the toolchain side of Femto-Containers (ELF conversion, dump, build; later assembler and translators).

pub mod bare_metal;
pub mod cgen;
#[cfg(feature = "cranelift")]
pub mod clif;
pub mod cli;
pub mod conformance;
pub mod container;
pub mod conformance_data;
pub mod engines;
pub mod esp32c3;
pub mod esp8266;
pub mod host_native;
pub mod rp2040;
pub mod text;
pub mod translate;
