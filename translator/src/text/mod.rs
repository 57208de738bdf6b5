//! eBPF and bytes as text: the assembler and disassembler (the conformance data's syntax) and hex.

pub mod asm;
pub mod disasm;
pub mod hex;
