//! Runs a test body once per engine and compares everything the runs observed with the reference's.
//!
//! Inside a body, VMs come from [`new_vm`] (set to the engine under test) and runs go
//! through [`execute`] / [`execute_function`], which record r0 (when OK), the error
//! code, the fault slot, the context bytes, both stores and the data section; printf
//! sinks made by [`capture`] record every line. After all engines ran, each engine's
//! record must equal the reference's, observation by observation. A body running a
//! container built from source names its line table ([`name_lines`]): fault slots are
//! then recorded with their source line, so a failure says where in the source it is.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use fc_aot::container::lines::{insn_label, LineTable};
use fc_aot::target::{self, EngineKind, Execution, Target};
use fc_runtime::stores::StoreContext;
use fc_runtime::VirtualMachine;

thread_local! {
    static ENGINE: Cell<EngineKind> = const { Cell::new(EngineKind::Reference) };
    static LOG: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
    static LINES: RefCell<Option<LineTable>> = const { RefCell::new(None) };
}

/// The line table of the container the body runs next (`None`: no source lines).
pub fn name_lines(table: Option<&LineTable>) {
    LINES.with(|l| *l.borrow_mut() = table.cloned());
}

/// `insn 4 (sort.c:17)` with the named table, else `insn 4`.
pub fn label(pc: usize) -> String {
    LINES.with(|l| insn_label(l.borrow().as_ref(), pc))
}

/// The engine the current body runs on.
pub fn engine() -> EngineKind {
    ENGINE.with(Cell::get)
}

/// Adds one observation to the current engine's record.
pub fn record(what: impl std::fmt::Debug) {
    LOG.with(|l| l.borrow_mut().push(format!("{what:?}")));
}

/// A VM on the engine under test.
pub fn new_vm(stores: &StoreContext) -> VirtualMachine<'_> {
    let mut vm = VirtualMachine::new(stores);
    vm.set_engine(target::engine(engine(), Target::Host).expect("every engine runs on the host"));
    vm
}

fn observe(vm: &VirtualMachine<'_>, r0: i64, ctx: &[u8]) {
    let error = vm.last_error();
    let (r0, pc) = if error == 0 { (Some(r0), None) } else { (None, Some(label(vm.last_error_pc()))) };
    record(("run", r0, error, pc, ctx, vm.globals().entries(), vm.locals().entries(), vm.data()));
}

pub fn execute(vm: &mut VirtualMachine<'_>, ctx: &mut [u8]) -> i64 {
    let r0 = vm.execute(ctx);
    observe(vm, r0, ctx);
    r0
}

pub fn execute_function(vm: &mut VirtualMachine<'_>, name: &str, ctx: &mut [u8]) -> i64 {
    let r0 = vm.execute_function(name, ctx);
    observe(vm, r0, ctx);
    r0
}

/// Bare program text the conformance way, on the engine under test.
pub fn run_conformance(program: &[u8], mem: &[u8]) -> Execution {
    let outcome = target::run_conformance(engine(), Target::Host, &[], program, mem);
    record(("conformance", &outcome));
    outcome
}

/// A printf sink that records each delivered line and keeps it for the body to check.
pub fn capture(vm: &mut VirtualMachine<'_>) -> Rc<RefCell<Vec<String>>> {
    let lines: Rc<RefCell<Vec<String>>> = Rc::default();
    let sink = lines.clone();
    vm.environment().set_output(move |bytes: &[u8]| {
        let line = String::from_utf8_lossy(bytes).into_owned();
        record(("printf", &line));
        sink.borrow_mut().push(line);
    });
    lines
}

/// Runs `body` on every engine (each run must pass the body's own assertions) and
/// then requires every engine's observations to equal the reference's.
pub fn on_every_engine(body: impl Fn()) {
    on_engines(EngineKind::ALL, body)
}

/// [`on_every_engine`] for some engines; the reference must come first.
pub fn on_engines(engines: &[EngineKind], body: impl Fn()) {
    assert_eq!(engines.first(), Some(&EngineKind::Reference), "the reference runs first");
    let mut records = Vec::new();
    for &kind in engines {
        ENGINE.with(|e| e.set(kind));
        LOG.with(|l| l.borrow_mut().clear());
        name_lines(None);
        body();
        records.push((kind, LOG.with(|l| std::mem::take(&mut *l.borrow_mut()))));
    }
    let (reference, expected) = &records[0];
    for (kind, got) in &records[1..] {
        for (i, (want, have)) in expected.iter().zip(got).enumerate() {
            assert_eq!(have, want, "observation {i}: {} differs from {}", kind.name(), reference.name());
        }
        assert_eq!(got.len(), expected.len(), "{} made a different number of observations", kind.name());
    }
}

/// `every_engine! { fn name() { ... } }`: a test run on every engine and compared.
#[macro_export]
macro_rules! every_engine {
    ($(#[$meta:meta])* fn $name:ident() $body:block) => {
        $(#[$meta])*
        #[test]
        fn $name() {
            $crate::common::every_engine::on_every_engine(|| $body);
        }
    };
}
