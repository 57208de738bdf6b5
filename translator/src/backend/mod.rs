//! Native code from verified programs: the lowering plan both backends walk, the C
//! emitter, Cranelift, the symbols both export, and `translate`.

pub mod c;
#[cfg(feature = "cranelift")]
pub mod clif;
pub mod plan;
pub mod symbols;
pub mod translate;

use fc_runtime::verifier::VerifiedProgram;

/// What a backend translates: the program and what goes into the output besides code.
pub struct Input<'a> {
    /// Container name: symbols are `fc_<container>_...`.
    pub container: &'a str,
    pub program: &'a VerifiedProgram<'a>,
    /// Exported functions: (name, function index).
    pub functions: &'a [(String, usize)],
    pub data: &'a [u8],
    pub bss_len: usize,
    pub rodata: &'a [u8],
}

impl<'a> Input<'a> {
    /// The translation input of a whole container: its data, bss and rodata with it.
    pub fn of_container(container: &'a str, c: &'a fc_runtime::format::Container<'a>, program: &'a VerifiedProgram<'a>, functions: &'a [(String, usize)]) -> Input<'a> {
        Input { container, program, functions, data: c.data, bss_len: c.header.bss_len as usize, rodata: c.rodata }
    }
}
