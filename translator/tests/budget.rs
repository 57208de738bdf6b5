//! The branch budget bounds the work of a run (docs/budget.md), on every engine: a taken
//! jump costs one unit, a helper pays for what it moves or prints (one unit per started
//! 4 KiB past the first 4 KiB, charged before it does anything), and `off` means the
//! budget never runs out. `fc-aot run --timeout` stops what `off` lets run forever.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::every_engine::{capture, execute, new_vm, record};
use common::{TempDir, FC_AOT};
use fc_aot::target::EngineKind;
use fc_aot::text::asm::assemble;
use fc_runtime::format::{self, Image, Layout};
use fc_runtime::helpers::Profile;
use fc_runtime::interp::DEFAULT_BUDGET;
use fc_runtime::stores::StoreContext;
use fc_runtime::vm::Parts;
use fc_runtime::{ErrorCode, VirtualMachine};

const OK: i32 = 0;
const OUT_OF_BRANCHES: i32 = ErrorCode::OutOfBranches as i32;
const MIB: u64 = 1 << 20;
/// The first extra host region (`VirtualMachine::add_region`).
const REGION: u64 = 0x5000_0000;

fn asm(source: &str) -> Vec<u8> {
    assemble(source).unwrap_or_else(|e| panic!("{e}\n{source}"))
}

fn load<'a>(vm: &mut VirtualMachine<'a>, text: &'a [u8], rodata: &'a [u8]) {
    vm.environment().set_profile(Profile::Sming);
    let parts = Parts { text, data: &[], bss_len: 0, rodata, functions: Vec::new() };
    assert!(vm.load_parts(parts, 512), "load failed: {:?}", vm.load_error());
}

/// `n` memcpys of `len` bytes (region[len..2 len] to region[0..len]) in straight-line
/// code, each followed by counting it in the context's first word; returns r0 = n.
/// The call of copy k is at slot 5 + 6 k.
fn copies(n: usize, len: u64) -> Vec<u8> {
    let mut src = String::from("mov %r7, %r1\nmov %r6, 0\n");
    for _ in 0..n {
        src += &format!("mov %r1, {REGION:#x}\nmov %r2, {:#x}\nmov %r3, {len:#x}\ncall 2\nadd %r6, 1\nstxw [%r7+0], %r6\n", REGION + len);
    }
    src += "mov %r0, %r6\nexit";
    asm(&src)
}

/// Runs `text` with `budget` and a fresh region of 2 `len` bytes (second half 0x5a);
/// returns (r0 or None, error, slot or None, copies counted, bytes the copies moved).
fn run_copies(text: &[u8], len: u64, budget: Option<u32>) -> (Option<i64>, i32, Option<usize>, u32, usize) {
    let stores = StoreContext::new();
    let mut region = vec![0u8; 2 * len as usize];
    region[len as usize..].fill(0x5a);
    let mut ctx = [0u8; 4];
    let (r0, error, pc) = {
        let mut vm = new_vm(&stores);
        assert_eq!(vm.add_region(&mut region), Ok(REGION));
        load(&mut vm, text, &[]);
        vm.set_budget(budget);
        let r0 = execute(&mut vm, &mut ctx);
        let error = vm.last_error();
        if error == OK { (Some(r0), error, None) } else { (None, error, Some(vm.last_error_pc())) }
    };
    let moved = region[..len as usize].iter().filter(|&&b| b == 0x5a).count();
    record(("region", moved));
    (r0, error, pc, u32::from_le_bytes(ctx), moved)
}

every_engine! {
fn memcpys_of_1_mib_pay_255_units_each() {
    const N: usize = 100;
    let text = copies(N, MIB);
    let call = |k: usize| Some(5 + 6 * k);
    // Budget 200 cannot pay for the first copy: the run stops at it, nothing moved.
    assert_eq!(run_copies(&text, MIB, Some(200)), (None, OUT_OF_BRANCHES, call(0), 0, 0));
    assert_eq!(run_copies(&text, MIB, Some(DEFAULT_BUDGET)), (None, OUT_OF_BRANCHES, call(0), 0, 0), "the default budget");
    // 1000 pays for three (765 units), not for a fourth.
    assert_eq!(run_copies(&text, MIB, Some(1000)), (None, OUT_OF_BRANCHES, call(3), 3, MIB as usize));
    // Exactly 100 x 255 runs to the end; one unit less stops at the last copy.
    assert_eq!(run_copies(&text, MIB, Some(255 * N as u32)), (Some(N as i64), OK, None, N as u32, MIB as usize));
    assert_eq!(run_copies(&text, MIB, Some(255 * N as u32 - 1)), (None, OUT_OF_BRANCHES, call(N - 1), N as u32 - 1, MIB as usize));
    // Off: nothing is charged.
    assert_eq!(run_copies(&text, MIB, None), (Some(N as i64), OK, None, N as u32, MIB as usize));
}
}

every_engine! {
fn a_copy_of_4_kib_costs_nothing_and_one_byte_more_costs_one() {
    let free = copies(50, 4096);
    // Fifty 4 KiB copies with no budget at all.
    assert_eq!(run_copies(&free, 4096, Some(0)), (Some(50), OK, None, 50, 4096));
    let one = copies(3, 4097);
    assert_eq!(run_copies(&one, 4097, Some(0)), (None, OUT_OF_BRANCHES, Some(5), 0, 0));
    assert_eq!(run_copies(&one, 4097, Some(2)), (None, OUT_OF_BRANCHES, Some(17), 2, 4097));
    assert_eq!(run_copies(&one, 4097, Some(3)), (Some(3), OK, None, 3, 4097));
    // 8 KiB is one started 4 KiB past the first; 8 KiB + 1 two.
    assert_eq!(run_copies(&copies(2, 8192), 8192, Some(2)), (Some(2), OK, None, 2, 8192));
    assert_eq!(run_copies(&copies(2, 8193), 8193, Some(3)), (None, OUT_OF_BRANCHES, Some(11), 1, 8193));
}
}

every_engine! {
fn a_memcpy_that_fails_moves_nothing_and_costs_nothing() {
    // The source runs past the region: memcpy returns -1 (stored as the count's sign).
    let text = asm(&format!("mov %r1, {REGION:#x}\nmov %r2, {:#x}\nlddw %r3, {:#x}\ncall 2\nexit", REGION + 8, 2 * MIB));
    let stores = StoreContext::new();
    let mut region = vec![0u8; 2 * MIB as usize];
    let mut vm = new_vm(&stores);
    vm.add_region(&mut region).unwrap();
    load(&mut vm, &text, &[]);
    vm.set_budget(Some(0));
    assert_eq!((execute(&mut vm, &mut []), vm.last_error()), (-1, OK));
}
}

every_engine! {
fn jumps_and_helpers_share_one_budget() {
    // Three rounds of a memcpy of 8 KiB (1 unit) and a taken jump (1 unit); the last
    // round's jump is not taken: 3 + 2 = 5 units.
    let text = asm(&format!(
        "mov %r6, 0
         L: mov %r1, {REGION:#x}
         mov %r2, {:#x}
         mov %r3, 8192
         call 2
         add %r6, 1
         jlt %r6, 3, L
         mov %r0, %r6
         exit",
        REGION + 8192
    ));
    assert_eq!(run_copies(&text, 8192, Some(5)), (Some(3), OK, None, 0, 8192));
    // With 4 the third copy (after two copies and two jumps) cannot be paid.
    assert_eq!(run_copies(&text, 8192, Some(4)), (None, OUT_OF_BRANCHES, Some(4), 0, 8192));
    // With 3 the second jump cannot.
    assert_eq!(run_copies(&text, 8192, Some(3)), (None, OUT_OF_BRANCHES, Some(6), 0, 8192));
}
}

every_engine! {
fn a_helper_in_a_local_call_charges_the_callers_budget() {
    // main: call f twice, then a loop of 2 taken jumps; f copies 8 KiB + 1 (2 units).
    let text = asm(&format!(
        "call local f
         call local f
         mov %r0, 0
         L: add %r0, 1
         jlt %r0, 3, L
         exit
         f:
         mov %r1, {REGION:#x}
         mov %r2, {:#x}
         mov %r3, 8193
         call 2
         mov %r0, 7
         exit",
        REGION + 8193
    ));
    assert_eq!(run_copies(&text, 8193, Some(6)), (Some(3), OK, None, 0, 8193));
    // 5: the second jump of the caller's loop, after the callee spent 4.
    assert_eq!(run_copies(&text, 8193, Some(5)), (None, OUT_OF_BRANCHES, Some(4), 0, 8193));
    // 3: the second call's copy, in the callee.
    assert_eq!(run_copies(&text, 8193, Some(3)), (None, OUT_OF_BRANCHES, Some(9), 0, 8193));
}
}

every_engine! {
fn printf_pays_for_what_it_prints() {
    // "%s\n" with a string of 10 KiB - 1: 10 KiB printed, 2 units.
    let mut rodata = b"%s\n\0".to_vec();
    rodata.extend(std::iter::repeat_n(b'x', 10 * 1024 - 1));
    rodata.push(0);
    let text = asm("lddw %r1, 0x10000000\nlddw %r2, 0x10000004\ncall 1\nexit");
    for (budget, want) in [(Some(1), (OUT_OF_BRANCHES, Some(4), 0)), (Some(2), (OK, None, 1)), (None, (OK, None, 1))] {
        let stores = StoreContext::new();
        let mut vm = new_vm(&stores);
        let lines = capture(&mut vm);
        load(&mut vm, &text, &rodata);
        vm.set_budget(budget);
        let r0 = execute(&mut vm, &mut []);
        let error = vm.last_error();
        let pc = (error != OK).then(|| vm.last_error_pc());
        assert_eq!((error, pc, lines.borrow().len()), want, "budget {budget:?}: nothing printed unless paid for");
        if error == OK {
            assert_eq!(r0, 10 * 1024);
        }
    }
    // A small printf costs nothing, even with budget 0.
    let text = asm("lddw %r1, 0x10000000\nmov %r2, 0x10000004\ncall 1\nexit");
    let rodata = b"%s\n\0hello\0";
    let stores = StoreContext::new();
    let mut vm = new_vm(&stores);
    let lines = capture(&mut vm);
    load(&mut vm, &text, rodata);
    vm.set_budget(Some(0));
    assert_eq!(execute(&mut vm, &mut []), 6);
    assert_eq!(lines.borrow().as_slice(), ["hello\n"]);
}
}

every_engine! {
fn with_the_budget_off_a_million_jumps_finish() {
    let text = asm("mov %r0, 0\nL: add %r0, 1\njlt %r0, 1000000, L\nexit");
    let stores = StoreContext::new();
    let mut vm = new_vm(&stores);
    load(&mut vm, &text, &[]);
    vm.set_budget(None);
    assert_eq!((execute(&mut vm, &mut []), vm.last_error()), (1_000_000, OK));
    // And with a budget one short, the last jump is refused.
    vm.set_budget(Some(999_998));
    assert_eq!((execute(&mut vm, &mut []), vm.last_error(), vm.last_error_pc()), (OUT_OF_BRANCHES as i64, OUT_OF_BRANCHES, 2));
}
}

/// A container of assembled `source` in `dir/NAME.bin`.
fn container(dir: &std::path::Path, name: &str, source: &str) -> std::path::PathBuf {
    let image = Image { data: Vec::new(), bss_len: 0, rodata: Vec::new(), text: asm(source), functions: vec![("main".to_string(), 0)] };
    let bin = dir.join(format!("{name}.bin"));
    std::fs::write(&bin, format::write(&image, Layout::Seed).unwrap()).unwrap();
    bin
}

#[test]
fn budget_off_never_runs_out_and_timeout_stops_the_run_on_every_engine() {
    let tmp = TempDir::new("budget-off");
    let endless = container(tmp.path(), "endless", "mov %r0, 0\nL: ja L\nexit");
    for &engine in EngineKind::ALL {
        let run = |args: &[&str]| {
            let started = Instant::now();
            let out = Command::new(FC_AOT).arg("run").arg(&endless).args(["--engine", engine.name()]).args(args).output().unwrap();
            (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned(), started.elapsed())
        };
        // Off: still looping when the timeout strikes, whatever the engine (the `c`
        // engine's compiler once folded the countdown loop to its exit).
        let (code, stdout, stderr, took) = run(&["--budget", "off", "--timeout", "1.5"]);
        assert_eq!(code, Some(4), "{}: {stdout}{stderr}", engine.name());
        assert_eq!(stderr, "fc-aot: run stopped by --timeout after 1.5 s\n", "{}", engine.name());
        assert!(stdout.is_empty(), "{}: {stdout}", engine.name());
        assert!(took >= Duration::from_millis(1500), "{}: ended after {took:?}", engine.name());
        // With a budget the timeout has nothing to do.
        let (code, stdout, _, _) = run(&["--budget", "1000", "--timeout", "60"]);
        assert_eq!(code, Some(3), "{}", engine.name());
        assert!(stdout.contains("error: OUT_OF_BRANCHES at insn 1: the 1000 budget units allowed (taken jumps, helpers' work) ran out; --budget raises them\n"), "{}: {stdout}", engine.name());
    }
    // Not a number of seconds.
    for bad in ["0", "-1", "soon"] {
        let out = Command::new(FC_AOT).arg("run").arg(&endless).arg(format!("--timeout={bad}")).output().unwrap();
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("positive number of seconds"), "{bad}");
    }
}

/// Native code's countdown at 0 with `FC_FLAG_BUDGET_OFF`: a new round, not a stop.
/// The runtime starts that countdown at 2^64 - 1, so this drives translated code (both
/// backends, linked with a small driver) with an environment of its own, budget 3.
#[test]
fn native_code_refills_the_countdown_when_the_budget_is_off() {
    let tmp = TempDir::new("budget-refill");
    // Ten taken jumps, then a memcpy of 8 KiB + 1 (2 units) that the driver's helper
    // charges as the runtime's dispatch would, then r0.
    let bin = container(tmp.path(), "refill", "mov %r0, 0\nL: add %r0, 1\njlt %r0, 11, L\nmov %r1, 8193\ncall 2\nmov %r0, 11\nexit");
    let include = common::manifest_dir().join("../targets/include");
    let driver = tmp.join("driver.c");
    std::fs::write(
        &driver,
        r#"#include <stdio.h>
#include <stdlib.h>
#include "fc_abi.h"
extern uint64_t fc_refill_main(fc_env *env, uint64_t r1, uint64_t r2);
static uint8_t stack[512];
static uint64_t helper(fc_env *env, uint32_t id, uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5) {
    (void)id, (void)r2, (void)r3, (void)r4, (void)r5;
    uint64_t cost = (r1 - 1) / 4096;
    if (!(env->flags & FC_FLAG_BUDGET_OFF)) {
        if (cost > env->budget) { env->error = FC_OUT_OF_BRANCHES; env->stop = 1; return 0; }
        env->budget -= cost;
    }
    return 0;
}
int main(int argc, char **argv) {
    fc_env env = {0};
    env.regions[FC_SLOT_STACK] = (fc_region){stack, sizeof stack, 1};
    env.helper = helper;
    env.frame_size = 512;
    env.stack_top = 0x30000000u + 512;
    env.budget = strtoull(argv[1], NULL, 10);
    env.flags = argc > 2 ? FC_FLAG_BUDGET_OFF : 0;
    uint64_t r0 = fc_refill_main(&env, 0, 0);
    printf("%d %u %llu\n", env.error, env.error_pc, (unsigned long long)r0);
    return 0;
}
"#,
    )
    .unwrap();
    let translated = [("c", "refill.c"), ("cranelift", "refill.o")];
    for (backend, file) in translated {
        let out = tmp.join(file);
        let t = Command::new(FC_AOT).arg("translate").arg(&bin).args(["--backend", backend, "-o"]).arg(&out).output().unwrap();
        assert!(t.status.success(), "{backend}: {}", String::from_utf8_lossy(&t.stderr));
        let exe = tmp.join(format!("driver-{backend}"));
        let cc = Command::new("cc").args(["-O2", "-I"]).arg(&include).arg(&driver).arg(&out).arg("-o").arg(&exe).output().unwrap();
        assert!(cc.status.success(), "{backend}: {}", String::from_utf8_lossy(&cc.stderr));
        let run = |args: &[&str]| String::from_utf8_lossy(&Command::new(&exe).args(args).output().unwrap().stdout).trim().to_string();
        // Budget 3 on: the fourth jump (slot 2) is refused; 12 pays for the jumps and the copy.
        assert_eq!(run(&["3"]), "-8 2 0", "{backend}");
        assert_eq!(run(&["11"]), "-8 4 0", "{backend}: the copy cannot be paid");
        assert_eq!(run(&["12"]), "0 0 11", "{backend}");
        // Off: the countdown goes 3, 2, 1, 0, then a new round; the copy is not charged.
        assert_eq!(run(&["3", "off"]), "0 0 11", "{backend}");
        assert_eq!(run(&["0", "off"]), "0 0 11", "{backend}");
    }
}
