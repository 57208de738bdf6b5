//! Arbitrary bytes -> the `.bin` reader (every layout choice): an error or a container
//! whose accessors, function table and text decoding never panic.
#![no_main]

use fc_runtime::format::{Container, Layout, LayoutChoice};
use fc_runtime::helpers::{Builtin, Profile};
use fc_runtime::insn::Decoder;
use fc_runtime::verifier::{self, Config, DEFAULT_MAX_CALL_DEPTH};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let choices = [LayoutChoice::Auto, LayoutChoice::Only(Layout::Seed), LayoutChoice::Only(Layout::Sming32)];
    let mut auto = None;
    for choice in choices {
        let Ok(c) = Container::parse(data, choice) else { continue };
        match choice {
            LayoutChoice::Auto => auto = Some(c.layout),
            LayoutChoice::Only(layout) => assert_eq!(c.layout, layout),
        }
        assert_eq!(c.layout.header_len() + c.data.len() + c.rodata.len() + c.text.len() + 6 * c.function_count(), data.len());
        assert_eq!(c.text.len() % 8, 0);
        let _ = c.data_region_len();
        // `parse` validated every entry: the iterator yields them all.
        let functions: Vec<_> = c.functions().collect();
        assert_eq!(functions.len(), c.function_count());
        for f in &functions {
            assert!(f.slot() < c.text.len() / 8);
            assert_eq!(c.function(f.name).map(|g| g.name), Some(f.name));
        }
        assert_eq!(c.entry(), functions.first().copied());
        for insn in Decoder::new(c.text).flatten() {
            let _ = insn.op.reads();
            let _ = insn.op.writes();
            let _ = insn.op.jump_target(insn.pc);
            let _ = insn.op.call_target(insn.pc);
        }
        // The verifier on a container's own entry points (the VM's load path).
        let arity = |id| Profile::Sming.builtin(id).map(Builtin::arity);
        let config = Config { max_call_depth: DEFAULT_MAX_CALL_DEPTH, helper_arity: &arity };
        let _ = verifier::verify_container(&c, &config);
    }
    // What `auto` picked, the explicit choice of that layout accepts too.
    if let Some(layout) = auto {
        assert!(Container::parse(data, LayoutChoice::Only(layout)).is_ok(), "auto picked {layout:?}, which then fails");
    }
});
