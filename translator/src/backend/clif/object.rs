//! Relocatable objects through `cranelift-object`, for the host and the other Cranelift ISAs.

use cranelift_module::{DataDescription, Linkage, Module};
use cranelift_object::{ObjectBuilder, ObjectModule};
use fc_runtime::native::ABI_VERSION;

use super::lower::{lower, Listing};
use crate::backend::symbols::Symbols;
use crate::backend::Input;

fn define_bytes(module: &mut ObjectModule, name: &str, bytes: &[u8], align: u64) -> Result<(), String> {
    let id = module.declare_data(name, Linkage::Export, false, false).map_err(|e| e.to_string())?;
    let mut data = DataDescription::new();
    data.define(bytes.to_vec().into_boxed_slice());
    data.set_align(align);
    module.define_data(id, &data).map_err(|e| e.to_string())
}

/// Translates to a relocatable object for `triple` (Cranelift ISAs only).
/// `listing` receives the IR text or the disassembly when given.
pub fn translate(input: &Input, triple: &str, pic: bool, listing: Option<(Listing, &mut String)>) -> Result<Vec<u8>, String> {
    let isa = super::isa(triple, pic)?;
    let builder = ObjectBuilder::new(isa, input.container, cranelift_module::default_libcall_names()).map_err(|e| e.to_string())?;
    let mut module = ObjectModule::new(builder);
    let symbols = Symbols::new(input.container);
    let exported: Vec<(String, usize)> = input.functions.iter().map(|(name, f)| (symbols.entry(name), *f)).collect();
    lower(&mut module, input.program, &symbols, &exported, listing).map_err(|e| e.to_string())?;
    let u32_le = |v: usize| (v as u32).to_le_bytes();
    define_bytes(&mut module, &symbols.abi_version(), &ABI_VERSION.to_le_bytes(), 4)?;
    for (name, f) in input.functions {
        define_bytes(&mut module, &symbols.depth(name), &u32_le(input.program.depth(*f)), 4)?;
    }
    // Native code owns aligned copies of its data and rodata (spec §2 "Alignment").
    define_bytes(&mut module, &symbols.rodata(), &padded(input.rodata), 8)?;
    define_bytes(&mut module, &symbols.rodata_len(), &u32_le(input.rodata.len()), 4)?;
    define_bytes(&mut module, &symbols.data(), &padded(input.data), 8)?;
    define_bytes(&mut module, &symbols.data_len(), &u32_le(input.data.len()), 4)?;
    define_bytes(&mut module, &symbols.bss_len(), &u32_le(input.bss_len), 4)?;
    module.finish().emit().map_err(|e| e.to_string())
}

/// At least one byte, so every symbol has an address.
fn padded(bytes: &[u8]) -> Vec<u8> {
    if bytes.is_empty() { vec![0] } else { bytes.to_vec() }
}
