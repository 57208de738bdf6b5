//! Containers as files: the ELF converter, the build of a folder of sources, and the dump.

pub mod build;
pub mod dump;
pub mod elf;
