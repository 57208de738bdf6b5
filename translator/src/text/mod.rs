//! eBPF as text: the assembler and the disassembler (the conformance data's syntax).

pub mod asm;
pub mod disasm;
