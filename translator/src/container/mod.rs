//! Containers as files: the ELF converter, the build of a folder of sources, the dump, and line tables.

pub mod build;
pub mod dump;
pub mod elf;
pub mod names;
pub mod outputs;
pub mod lines;
