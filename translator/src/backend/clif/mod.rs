//! Native code through Cranelift: the lowering, the in-process JIT and relocatable objects.

pub mod object;
pub mod jit;
pub mod lower;

use std::str::FromStr;

use cranelift_codegen::isa::OwnedTargetIsa;
use cranelift_codegen::settings::{self, Configurable};
use target_lexicon::Triple;

/// The Cranelift ISA for a target triple, optimising for speed; `pic` for shared objects.
pub fn isa(triple: &str, pic: bool) -> Result<OwnedTargetIsa, String> {
    let triple = Triple::from_str(triple).map_err(|e| format!("target triple `{triple}`: {e}"))?;
    let mut flags = settings::builder();
    let set = |flags: &mut settings::Builder, k: &str, v: &str| flags.set(k, v).map_err(|e| format!("{k}={v}: {e}"));
    set(&mut flags, "opt_level", "speed")?;
    set(&mut flags, "is_pic", if pic { "true" } else { "false" })?;
    let builder = cranelift_codegen::isa::lookup(triple.clone()).map_err(|e| format!("{triple}: {e}"))?;
    builder.finish(settings::Flags::new(flags)).map_err(|e| format!("{triple}: {e}"))
}

/// The host's triple as Cranelift names it.
pub fn host_triple() -> String {
    Triple::host().to_string()
}
