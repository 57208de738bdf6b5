//! fc-aot: the toolchain side of Femto-Containers (ELF conversion, dump, build; later assembler and translators).

pub mod build;
pub mod cli;
pub mod dump;
pub mod elf;
