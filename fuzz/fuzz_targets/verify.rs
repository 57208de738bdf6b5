//! Arbitrary instruction bytes -> the verifier (conformance profile); every accepted
//! program then runs on the reference interpreter under a budget, and on the optimized
//! interpreter, which must agree with it. Nothing may panic or hang, and every memory
//! access goes through raw pointers (`memory.rs`, `interp/fast.rs`), which the sanitizer
//! build checks.
//!
//! Input: `text ++ ctx ++ [ctx_len]`. The last byte is the context length (clamped to what
//! is there), the bytes before it are the context, the rest is the text, cut to whole
//! 8-byte slots. `make_corpus` writes the conformance programs in this form. The program
//! is loaded as bare text (entry slot 0), and, when there is a context, once more with a
//! second entry point at the slot the first context byte names.
#![no_main]

use fc_runtime::helpers::{Builtin, Profile};
use fc_runtime::interp::{Engine, Interp, Reference};
use fc_runtime::stores::StoreContext;
use fc_runtime::verifier::{self, Config, DEFAULT_MAX_CALL_DEPTH};
use fc_runtime::vm::Parts;
use fc_runtime::VirtualMachine;
use libfuzzer_sys::fuzz_target;

const BUDGET: u32 = 10_000;
const FRAME: usize = 512;

/// How a load and run ended: `None` when the load failed, else (r0, error code, context after).
type Outcome = Option<(i64, i32, Vec<u8>)>;

/// Loads `text` with the host-callable `functions` (empty: slot 0) and runs `name`
/// (`None`: the entry function).
fn run(engine: Box<dyn Engine>, text: &[u8], functions: &[(&str, usize)], name: Option<&str>, ctx: &[u8]) -> Outcome {
    let stores = StoreContext::new();
    let mut vm = VirtualMachine::new(&stores);
    vm.environment().set_profile(Profile::Conformance);
    vm.set_engine(engine);
    vm.set_budget(Some(BUDGET));
    let parts = Parts { text, data: &[], bss_len: 0, rodata: &[], functions: functions.to_vec() };
    if !vm.load_parts(parts, FRAME) {
        return None;
    }
    let mut ctx = ctx.to_vec();
    let r0 = match name {
        Some(name) => vm.execute_function(name, &mut ctx),
        None => vm.execute(&mut ctx),
    };
    Some((r0, vm.last_error(), ctx))
}

/// Runs on the reference interpreter, checks the load against `accepted`, and checks that
/// the optimized interpreter agrees (spec §2: the same error code, and on success the same
/// r0 and context).
fn check(text: &[u8], functions: &[(&str, usize)], name: Option<&str>, ctx: &[u8], accepted: bool) {
    let reference = run(Box::new(Reference), text, functions, name, ctx);
    assert_eq!(reference.is_some(), accepted, "the VM's load and the verifier disagree");
    let Some((r0, code, ctx_after)) = reference else { return };
    let fast = run(Box::<Interp>::default(), text, functions, name, ctx);
    let (fast_r0, fast_code, fast_ctx) = fast.expect("interp refused a verified program");
    assert_eq!(fast_code, code, "error code: interp {fast_code}, reference {code}");
    if code == 0 {
        assert_eq!(fast_r0, r0, "r0: interp {fast_r0:#x}, reference {r0:#x}");
        assert_eq!(fast_ctx, ctx_after, "context after the run");
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&ctx_len, rest)) = data.split_last() else { return };
    let ctx_len = (ctx_len as usize).min(rest.len());
    let (text, ctx) = rest.split_at(rest.len() - ctx_len);
    let text = &text[..text.len() / 8 * 8];

    let arity = |id| Profile::Conformance.builtin(id).map(Builtin::arity);
    let config = Config { max_call_depth: DEFAULT_MAX_CALL_DEPTH, helper_arity: &arity };
    let accepted = verifier::verify(text, &[], &config).is_ok();

    check(text, &[], None, ctx, accepted);

    // A host's function table: slot 0 and a second entry picked by the first context byte
    // (any slot, also one that is not an instruction start or lies past the text).
    if let Some(&slot) = ctx.first() {
        let slot = slot as usize;
        let accepted = verifier::verify(text, &[0, slot], &config).is_ok();
        check(text, &[("main", 0), ("f", slot)], Some("f"), ctx, accepted);
    }
});
