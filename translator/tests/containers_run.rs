//! Runs every sample container of `containers/` on `fc_runtime::VirtualMachine` and checks
//! r0, the error code, the context after the run, printf output and the stores against
//! values computed here in plain Rust (never against what the VM printed before).
//!
//! Also checks VM behaviour the samples do not reach with small assembled programs:
//! the address map, ILLEGAL_MEM with the faulting slot index, the branch budget,
//! application helpers, printf with a bad `%s` pointer, and running an unloaded VM.
//!
//! The containers are built once per test binary with `fc-aot build` (needs clang).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;
use std::rc::Rc;
use std::sync::OnceLock;

mod common;

use common::every_engine::{capture, execute, execute_function, label, name_lines, new_vm, run_conformance};
use fc_aot::container::lines::{self, LineTable};
use fc_aot::text::asm::assemble;
use fc_aot::target::Execution;
use fc_runtime::format::{Container, LayoutChoice};
use fc_runtime::helpers::Profile;
use fc_runtime::stores::{StoreContext, STORE_NUM_VALUES};
use fc_runtime::vm::Parts;
use fc_runtime::{error_string, ErrorCode, VirtualMachine};

// ---------------------------------------------------------------------------------------------
// Building and loading the samples
// ---------------------------------------------------------------------------------------------

/// Every sample container this file tests; `built_containers_are_exactly_the_tested_ones`
/// fails when a container is added to `containers/` without a test here.
const TESTED: [&str; 12] = [
    "arith64",
    "counter",
    "crc32",
    "fibonacci",
    "fletcher32",
    "globalcall",
    "increment",
    "localcall",
    "multiply",
    "sort",
    "store",
    "strings",
];

const OK: i32 = 0;
const ILLEGAL_MEM: i32 = ErrorCode::IllegalMem as i32;
const ILLEGAL_CALL: i32 = ErrorCode::IllegalCall as i32;
const OUT_OF_BRANCHES: i32 = ErrorCode::OutOfBranches as i32;
const NO_MEMORY: i32 = ErrorCode::NoMemory as i32;

const STACK: usize = 512;

fn containers_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../containers")
}

/// A built sample: its `.bin` and the line table of its object (`NAME.o`, built with `-g`).
struct Sample {
    bin: Vec<u8>,
    lines: LineTable,
}

/// `NAME -> sample` of every `.bin` that `fc-aot build containers` produced.
fn built() -> &'static BTreeMap<String, Sample> {
    static BUILT: OnceLock<BTreeMap<String, Sample>> = OnceLock::new();
    BUILT.get_or_init(|| {
        let out = std::env::temp_dir().join(format!("fc-aot-containers-run-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&out);
        std::fs::create_dir_all(&out).unwrap_or_else(|e| panic!("cannot create {}: {e}", out.display()));
        let src = containers_dir();
        let o = Command::new(env!("CARGO_BIN_EXE_fc-aot"))
            .arg("build")
            .arg(&src)
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap_or_else(|e| panic!("cannot run fc-aot: {e}"));
        assert!(
            o.status.success(),
            "`fc-aot build {} --out {}` failed ({}); clang with the BPF target is required\nstdout:\n{}\nstderr:\n{}",
            src.display(),
            out.display(),
            o.status,
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        let mut bins = BTreeMap::new();
        for entry in std::fs::read_dir(&out).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "bin") {
                let name = path.file_stem().unwrap().to_string_lossy().into_owned();
                let object = std::fs::read(path.with_extension("o")).unwrap();
                let lines = lines::table(&object).unwrap_or_else(|e| panic!("{name}.o: no line table: {e}"));
                bins.insert(name, Sample { bin: std::fs::read(&path).unwrap(), lines });
            }
        }
        let _ = std::fs::remove_dir_all(&out);
        bins
    })
}

fn sample(name: &str) -> &'static Sample {
    built().get(name).unwrap_or_else(|| panic!("{name}.bin was not built"))
}

fn container(name: &str) -> &'static [u8] {
    &sample(name).bin
}

/// A VM (sming profile, reference engine) with `name` loaded with 512-byte frames; its
/// runs' faults are recorded and reported with `name`'s source lines.
fn load<'a>(stores: &'a StoreContext, name: &str) -> VirtualMachine<'a> {
    name_lines(Some(&sample(name).lines));
    let mut vm = new_vm(stores);
    let ok = vm.load(container(name), STACK);
    assert!(ok, "{name}: load failed: {} ({:?})", error_string(vm.last_error()), vm.load_error());
    assert_eq!(vm.last_error(), OK);
    vm
}

/// Runs with `budget` and asserts the run succeeded; returns r0.
fn run_ok(vm: &mut VirtualMachine<'_>, what: &str, ctx: &mut [u8], budget: u32) -> i64 {
    vm.set_budget(Some(budget));
    let r0 = execute(vm, ctx);
    assert_eq!(
        vm.last_error(),
        OK,
        "{what}: run failed with {} at {} (budget {budget})",
        error_string(vm.last_error()),
        label(vm.last_error_pc())
    );
    r0
}

/// Runs a fresh copy of `ctx` with `budget` on a fresh VM and asserts OUT_OF_BRANCHES.
fn assert_out_of_branches(name: &str, ctx: &[u8], budget: u32) {
    let stores = StoreContext::new();
    let mut vm = load(&stores, name);
    vm.set_budget(Some(budget));
    let mut c = ctx.to_vec();
    let r0 = execute(&mut vm, &mut c);
    assert_eq!(vm.last_error(), OUT_OF_BRANCHES, "{name}: budget {budget} must not be enough");
    assert_eq!(r0, OUT_OF_BRANCHES as i64, "{name}: r0 is the error code after a failed run");
}

fn take(lines: &Rc<RefCell<Vec<String>>>) -> Vec<String> {
    std::mem::take(&mut *lines.borrow_mut())
}

// Little-endian context accessors.
fn put_u16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_le_bytes());
}
fn put_u32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}
fn put_u64(b: &mut [u8], at: usize, v: u64) {
    b[at..at + 8].copy_from_slice(&v.to_le_bytes());
}
fn get_u32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}
fn get_u64(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

/// xorshift64*: deterministic pseudo-random test inputs.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| (self.next() >> 56) as u8).collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Coverage of the sample list
// ---------------------------------------------------------------------------------------------

every_engine! {
fn built_containers_are_exactly_the_tested_ones() {
    let built: Vec<&str> = built().keys().map(String::as_str).collect();
    let mut sources: Vec<String> = std::fs::read_dir(containers_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| ["c", "cpp", "cc", "cxx"].contains(&e.to_str().unwrap_or(""))))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    sources.sort();
    assert_eq!(built, TESTED, "every built .bin needs a test in containers_run.rs (and only those)");
    assert_eq!(sources, TESTED, "every container source must build to a .bin that is tested");
    // Each one loads and has a function table entry named after its file.
    for name in TESTED {
        let stores = StoreContext::new();
        let vm = load(&stores, name);
        assert_eq!(vm.function_names().first().copied(), Some(name), "{name}: entry function");
    }
}
}

// ---------------------------------------------------------------------------------------------
// One test per sample container
// ---------------------------------------------------------------------------------------------

every_engine! {
fn increment_adds_one() {
    let stores = StoreContext::new();
    let mut vm = load(&stores, "increment");
    for value in [41u64, 0, 1, u64::MAX, i64::MAX as u64, 0x1234_5678_9abc_def0] {
        let mut ctx = value.to_le_bytes();
        let r0 = run_ok(&mut vm, "increment", &mut ctx, 0);
        assert_eq!(r0, value.wrapping_add(1) as i64, "increment({value:#x})");
        assert_eq!(ctx, value.to_le_bytes(), "increment does not write its context");
    }
    let mut ctx = 41u64.to_le_bytes();
    assert_eq!(execute(&mut vm, &mut ctx), 42);
    assert!(vm.locals().entries().is_empty() && vm.globals().entries().is_empty());
}
}

every_engine! {
fn a_sample_fault_is_reported_with_its_source_line() {
    let stores = StoreContext::new();
    let mut vm = load(&stores, "increment");
    // Half the u64 the container reads: every engine stops at the load of `ctx->value`
    // (`return ctx->value + 1;`, line 16 of containers/increment.c).
    let mut short = [0u8; 4];
    assert_eq!(execute(&mut vm, &mut short), ILLEGAL_MEM as i64);
    let at = label(vm.last_error_pc());
    assert!(at.starts_with("insn ") && at.ends_with("(increment.c:16)"), "{at}");
}
}

every_engine! {
fn multiply_32x32_to_64() {
    let stores = StoreContext::new();
    let mut vm = load(&stores, "multiply");
    let pairs = [(6u32, 7u32), (0, u32::MAX), (u32::MAX, u32::MAX), (0x1_0000, 0x1_0000), (1, 0xdead_beef), (0x8000_0000, 2)];
    for (a, b) in pairs {
        let mut ctx = [0u8; 16];
        put_u32(&mut ctx, 0, a);
        put_u32(&mut ctx, 4, b);
        put_u64(&mut ctx, 8, 0xAAAA_AAAA_AAAA_AAAA);
        let product = a as u64 * b as u64;
        let r0 = run_ok(&mut vm, "multiply", &mut ctx, 0);
        assert_eq!(r0, product as i64, "{a} * {b}");
        let mut expected = [0u8; 16];
        put_u32(&mut expected, 0, a);
        put_u32(&mut expected, 4, b);
        put_u64(&mut expected, 8, product);
        assert_eq!(ctx, expected, "{a} * {b}: context");
    }
}
}

every_engine! {
fn arith64_alu_results() {
    let stores = StoreContext::new();
    let mut vm = load(&stores, "arith64");
    let mut rng = Rng(0x0123_4567_89ab_cdef);
    let mut cases: Vec<(u64, u64, i64, u32)> = vec![
        (100, 7, -100, 3),
        (u64::MAX, 0, i64::MIN, 63), // b = 0: quot = rem = 0
        (0x8000_0000_0000_0000, 3, -1, 64), // shift 64 is used modulo 64: 0
        (12345, 1, 5, 200),          // 200 & 63 = 8
        (u64::MAX, u64::MAX, i64::MAX, 1),
        (7, 0x1_0000_0000, -7, 32),
        (0, 5, 0, 0),
    ];
    for _ in 0..4 {
        cases.push((rng.next(), rng.next() >> (rng.next() % 64), rng.next() as i64, rng.next() as u32));
    }
    for (a, b, c, shift) in cases {
        let mut ctx = [0u8; 80];
        put_u64(&mut ctx, 0, a);
        put_u64(&mut ctx, 8, b);
        put_u64(&mut ctx, 16, c as u64);
        put_u32(&mut ctx, 24, shift);
        put_u32(&mut ctx, 28, 0xDEAD_BEEF);
        for off in (32..80).step_by(8) {
            put_u64(&mut ctx, off, 0x5555_5555_5555_5555);
        }
        let s = shift % 64;
        let prod = a.wrapping_mul(b);
        let (quot, rem) = (a.checked_div(b).unwrap_or(0), a.checked_rem(b).unwrap_or(0));
        let shl = a << s;
        let shr = a >> s;
        let sar = c >> s;
        let expected_r0 = prod.wrapping_add(quot).wrapping_add(rem).wrapping_add(shl ^ shr ^ sar as u64) as i64;

        let r0 = run_ok(&mut vm, "arith64", &mut ctx, 4);
        let what = format!("arith64(a={a:#x}, b={b:#x}, c={c}, shift={shift})");
        assert_eq!(r0, expected_r0, "{what}: r0");
        let mut expected = [0u8; 80];
        put_u64(&mut expected, 0, a);
        put_u64(&mut expected, 8, b);
        put_u64(&mut expected, 16, c as u64);
        put_u32(&mut expected, 24, shift);
        put_u32(&mut expected, 28, 0xDEAD_BEEF);
        put_u64(&mut expected, 32, prod);
        put_u64(&mut expected, 40, quot);
        put_u64(&mut expected, 48, rem);
        put_u64(&mut expected, 56, shl);
        put_u64(&mut expected, 64, shr);
        put_u64(&mut expected, 72, sar as u64);
        assert_eq!(ctx, expected, "{what}: context");
    }
}
}

/// F(n) by addition in u128 (exact for every n tested here).
fn fib(n: u32) -> u128 {
    let (mut a, mut b) = (0u128, 1u128);
    for _ in 0..n {
        (a, b) = (b, a + b);
    }
    a
}

every_engine! {
fn fibonacci_iterative() {
    // The oracle itself, against well-known values.
    assert_eq!(fib(10), 55);
    assert_eq!(fib(50), 12_586_269_025);
    assert_eq!(fib(93), 12_200_160_415_121_876_738);

    let stores = StoreContext::new();
    let mut vm = load(&stores, "fibonacci");
    for n in [0u32, 1, 2, 3, 10, 50, 92, 93, 94, 100, 1000, u32::MAX] {
        let mut ctx = [0u8; 16];
        put_u32(&mut ctx, 0, n);
        put_u32(&mut ctx, 4, 0x1234_5678);
        put_u64(&mut ctx, 8, 0x5555_5555_5555_5555);
        let budget = n.saturating_add(5).min(200);
        let r0 = run_ok(&mut vm, "fibonacci", &mut ctx, budget);
        let mut expected = ctx;
        if n > 93 {
            assert_eq!(r0, -1, "F({n}) is out of range");
            put_u64(&mut expected, 8, 0x5555_5555_5555_5555);
        } else {
            let f = fib(n);
            assert!(f <= u64::MAX as u128);
            assert_eq!(r0, f as u64 as i64, "F({n})");
            put_u64(&mut expected, 8, f as u64);
        }
        put_u32(&mut expected, 0, n);
        put_u32(&mut expected, 4, 0x1234_5678);
        assert_eq!(ctx, expected, "F({n}): context");
    }
    assert!(fib(93) > i64::MAX as u128, "F(93) wraps negative as r0");

    let mut ctx = [0u8; 16];
    put_u32(&mut ctx, 0, 93);
    assert_out_of_branches("fibonacci", &ctx, 40);
    put_u32(&mut ctx, 0, 60);
    assert_out_of_branches("fibonacci", &ctx, 20);
}
}

/// Fletcher-32 as the comment defines it: sums start at 0xffff, reduced modulo 65535 with
/// 0 written as 0xffff (computed with `%`, not by the container's folding).
fn fletcher32(words: &[u16]) -> u32 {
    let (mut s1, mut s2) = (0xffffu64, 0xffffu64);
    for &w in words {
        s1 += w as u64;
        s2 += s1;
    }
    let reduce = |s: u64| match s % 65535 {
        0 => 0xffff,
        r => r as u32,
    };
    reduce(s2) << 16 | reduce(s1)
}

fn words_ctx(words: &[u16]) -> Vec<u8> {
    let mut ctx = vec![0u8; words.len() * 2];
    for (i, &w) in words.iter().enumerate() {
        put_u16(&mut ctx, 2 * i, w);
    }
    ctx
}

every_engine! {
fn fletcher32_checksum() {
    let stores = StoreContext::new();
    let mut vm = load(&stores, "fletcher32");
    let mut rng = Rng(42);
    let mut inputs: Vec<Vec<u16>> = vec![
        vec![0; 180],
        vec![0xffff; 180],
        (0..180).map(|i| i as u16).collect(),
        (0..180).map(|i| 0xffffu16.wrapping_sub(i * 7)).collect(),
        (0..180).map(|i| if i % 2 == 0 { 0x00ff } else { 0xff00 }).collect(),
    ];
    let mut last = vec![0u16; 180];
    last[179] = 1;
    inputs.push(last);
    for _ in 0..3 {
        inputs.push((0..180).map(|_| rng.next() as u16).collect());
    }
    for words in &inputs {
        let mut ctx = words_ctx(words);
        assert_eq!(ctx.len(), 360);
        let r0 = run_ok(&mut vm, "fletcher32", &mut ctx, 400);
        assert_eq!(r0, fletcher32(words) as i64, "fletcher32 of {:?}...", &words[..4]);
        assert!(r0 >= 0);
        assert_eq!(ctx, words_ctx(words), "fletcher32 does not write its context");
    }
    assert_out_of_branches("fletcher32", &words_ctx(&inputs[8]), 100);
}
}

/// Bitwise CRC-32 (reflected 0xEDB88320, init and final xor 0xffffffff): no table.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in data {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

every_engine! {
fn crc32_matches_zlib() {
    assert_eq!(crc32(b"123456789"), 0xCBF4_3926, "the oracle's standard check value");
    assert_eq!(crc32(&[0u8; 1024]), 0xEFB5_AF2E, "the check value crc32.c names");

    let stores = StoreContext::new();
    let mut vm = load(&stores, "crc32");
    let mut rng = Rng(7);
    let inputs: Vec<Vec<u8>> = vec![
        vec![0; 1024],
        vec![0xff; 1024],
        (0..1024).map(|i| i as u8).collect(),
        rng.bytes(1024),
        rng.bytes(1024),
    ];
    for data in &inputs {
        let mut ctx = data.clone();
        let r0 = run_ok(&mut vm, "crc32", &mut ctx, 1100);
        assert_eq!(r0, crc32(data) as i64, "crc32 of {:02x?}...", &data[..8]);
        assert_eq!(&ctx, data, "crc32 does not write its context");
    }
    let mut zeros = vec![0u8; 1024];
    assert_eq!(run_ok(&mut vm, "crc32", &mut zeros, 1100), 0xEFB5_AF2E);
    assert_out_of_branches("crc32", &inputs[3], 500);
}
}

fn values_ctx(values: &[u32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

every_engine! {
fn sort_bubble_sorts_in_place() {
    let stores = StoreContext::new();
    let mut vm = load(&stores, "sort");
    let mut rng = Rng(99);
    let inputs: Vec<Vec<u32>> = vec![
        (0..64).collect(),
        (0..64).rev().collect(),
        vec![5; 64],
        (0..64).map(|_| rng.next() as u32).collect(),
        (0..64).map(|_| (rng.next() % 5) as u32).collect(),
        // Unsigned comparison: values with the top bit set sort after small ones.
        (0..64).map(|i| [0, u32::MAX, 0x8000_0000, 1, 0x7fff_ffff][i % 5]).collect(),
    ];
    for values in &inputs {
        let mut sorted = values.clone();
        sorted.sort_unstable();
        // Bubble sort swaps each inverted pair exactly once.
        let inversions = (0..64).flat_map(|i| (i + 1..64).map(move |j| (i, j))).filter(|&(i, j)| values[i] > values[j]).count();
        let mut ctx = values_ctx(values);
        let r0 = run_ok(&mut vm, "sort", &mut ctx, 8192);
        assert_eq!(r0, inversions as i64, "swaps for {:?}...", &values[..4]);
        assert_eq!(ctx, values_ctx(&sorted), "sorted in place");
    }
    let descending: Vec<u32> = (0..64).rev().collect();
    let mut ctx = values_ctx(&descending);
    assert_eq!(run_ok(&mut vm, "sort", &mut ctx, 8192), 2016, "64 * 63 / 2 swaps for descending input");
    // "Sorted input needs only ~130".
    let mut ctx = values_ctx(&(0..64).collect::<Vec<u32>>());
    assert_eq!(run_ok(&mut vm, "sort", &mut ctx, 200), 0);
    assert_out_of_branches("sort", &values_ctx(&descending), 1000);
    assert_out_of_branches("sort", &values_ctx(&descending), 2000);
}
}

fn mix(x: u32, y: u32) -> u32 {
    let h = x.wrapping_mul(31).wrapping_add(y);
    h ^ (h >> 7)
}

every_engine! {
fn localcall_mixes() {
    let stores = StoreContext::new();
    let mut vm = load(&stores, "localcall");
    let mut rng = Rng(5);
    let mut cases = vec![[1u32, 2, 3, 4], [0; 4], [u32::MAX; 4], [0x8000_0000, 1, 0xffff, 0x1234_5678]];
    cases.push([rng.next() as u32, rng.next() as u32, rng.next() as u32, rng.next() as u32]);
    for [a, b, c, d] in cases {
        let mut ctx = [0u8; 24];
        for (i, v) in [a, b, c, d].into_iter().enumerate() {
            put_u32(&mut ctx, 4 * i, v);
        }
        put_u64(&mut ctx, 16, u64::MAX);
        let r = mix(mix(a, b), mix(c, d));
        let r0 = run_ok(&mut vm, "localcall", &mut ctx, 0);
        assert_eq!(r0, r as i64, "localcall({a}, {b}, {c}, {d})");
        assert_eq!(get_u64(&ctx, 16), r as u64, "result is the zero-extended u32");
        assert_eq!([get_u32(&ctx, 0), get_u32(&ctx, 4), get_u32(&ctx, 8), get_u32(&ctx, 12)], [a, b, c, d]);
    }
}
}

fn scale(a: u64, b: u64) -> u64 {
    a.wrapping_mul(b).wrapping_add(a ^ b)
}

every_engine! {
fn globalcall_two_global_functions() {
    let stores = StoreContext::new();
    let mut vm = load(&stores, "globalcall");
    assert_eq!(vm.function_names(), ["globalcall", "scale"]);
    for (value, factor) in [(2u32, 5u32), (0, 0), (u32::MAX, u32::MAX), (1000, 3), (0x8000_0000, 7)] {
        let mut ctx = [0u8; 8];
        put_u32(&mut ctx, 0, value);
        put_u32(&mut ctx, 4, factor);
        let expected = scale(value as u64, factor as u64).wrapping_add(scale(factor as u64, 3)) as i64;
        let r0 = run_ok(&mut vm, "globalcall", &mut ctx, 0);
        assert_eq!(r0, expected, "globalcall({value}, {factor})");
        assert_eq!((get_u32(&ctx, 0), get_u32(&ctx, 4)), (value, factor));
    }
    // `scale` on its own: r1 = context address (0x4000_0000), r2 = context length.
    vm.set_budget(Some(0));
    let mut ctx = [0u8; 8];
    assert_eq!(execute_function(&mut vm, "scale", &mut ctx), scale(0x4000_0000, 8) as i64);
    assert_eq!(vm.last_error(), OK);
    assert_eq!(execute_function(&mut vm, "scale", &mut []), scale(0, 0) as i64, "no context: r1 = r2 = 0");
    assert_eq!(execute_function(&mut vm, "no_such_function", &mut ctx), ILLEGAL_CALL as i64);
    assert_eq!(vm.last_error(), ILLEGAL_CALL);
}
}

const STORE_LINE_FIRST_PREVIOUS: u32 = 0xC0FFEE;

fn store_ctx(key: u32, value: u32) -> [u8; 8] {
    let mut ctx = [0u8; 8];
    put_u32(&mut ctx, 0, key);
    put_u32(&mut ctx, 4, value);
    ctx
}

/// The line store.c prints: "%s: call %d (static %d), previous value %d\n".
fn store_line(calls: u32, statics: u32, previous: u32) -> String {
    format!("store: call {} (static {}), previous value {}\n", calls as i32, statics as i32, previous as i32)
}

every_engine! {
fn store_stores_printf_and_statics() {
    let stores = StoreContext::new();
    assert_eq!(stores.free(), STORE_NUM_VALUES);
    let mut a = load(&stores, "store");
    let out_a = capture(&mut a);

    // (key, value) per run of VM a.
    let runs = [(7u32, 1000u32), (8, (-5i32) as u32), (7, 3), (0xFFFF_FFFF, 0)];
    let mut globals: BTreeMap<u32, u32> = BTreeMap::new();
    let mut previous = STORE_LINE_FIRST_PREVIOUS;
    for (i, &(key, value)) in runs.iter().enumerate() {
        let n = i as u32 + 1;
        let mut ctx = store_ctx(key, value);
        let r0 = run_ok(&mut a, "store", &mut ctx, 9);
        assert_eq!(r0, n as i64, "run {n}: local call count");
        assert_eq!(ctx, store_ctx(key, value), "store does not write its context");
        assert_eq!(take(&out_a), [store_line(n, n, previous)], "run {n}: printf output");
        globals.insert(key, value);
        previous = value;
        let expected_globals: Vec<(u32, u32)> = globals.iter().map(|(&k, &v)| (k, v)).collect();
        assert_eq!(a.globals().entries().as_slice(), expected_globals.as_slice(), "run {n}: global store");
        assert_eq!(a.locals().entries().as_slice(), &[(1, n)], "run {n}: local store");
    }
    let used_by_a = globals.len() + 1;
    assert_eq!(stores.free(), STORE_NUM_VALUES - used_by_a);

    // A second VM on the same stores: shares the globals, has its own locals and statics.
    let mut b = load(&stores, "store");
    let out_b = capture(&mut b);
    assert!(b.locals().entries().is_empty());
    assert_eq!(b.globals().entries().as_slice(), a.globals().entries().as_slice());
    let mut ctx = store_ctx(9, 42);
    assert_eq!(run_ok(&mut b, "store", &mut ctx, 9), 1, "b has its own local call count");
    assert_eq!(take(&out_b), [store_line(1, 1, STORE_LINE_FIRST_PREVIOUS)], "b has its own .data/.bss");
    assert!(take(&out_a).is_empty(), "each VM prints to its own sink");
    globals.insert(9, 42);
    let expected_globals: Vec<(u32, u32)> = globals.iter().map(|(&k, &v)| (k, v)).collect();
    assert_eq!(a.globals().entries().as_slice(), expected_globals.as_slice(), "a sees b's global write");
    assert_eq!(b.globals().entries().as_slice(), expected_globals.as_slice());
    assert_eq!(a.locals().entries().as_slice(), &[(1, runs.len() as u32)]);
    assert_eq!(b.locals().entries().as_slice(), &[(1, 1)]);
    // The host side of the stores sees the same values.
    assert_eq!(a.globals().get(9), 42);
    assert!(b.globals().update(7, 77));
    assert_eq!(a.globals().get(7), 77);
    assert_eq!(stores.free(), STORE_NUM_VALUES - globals.len() - 2);

    // Unloading returns the local entries (and only them) to the pool.
    b.unload();
    assert!(!b.is_loaded());
    assert!(b.locals().entries().is_empty());
    assert_eq!(stores.free(), STORE_NUM_VALUES - globals.len() - 1);
    drop(b);
    a.unload();
    assert_eq!(stores.free(), STORE_NUM_VALUES - globals.len());
    assert_eq!(a.globals().entries().len(), globals.len(), "globals survive unloading");

    // Reloading starts from fresh statics and an empty local store.
    assert!(a.load(container("store"), STACK));
    let mut ctx = store_ctx(7, 5);
    assert_eq!(run_ok(&mut a, "store", &mut ctx, 9), 1);
    assert_eq!(take(&out_a), [store_line(1, 1, STORE_LINE_FIRST_PREVIOUS)]);
}
}

every_engine! {
fn store_statics_persist_until_reset_data() {
    let stores = StoreContext::new();
    let mut vm = load(&stores, "store");
    let out = capture(&mut vm);
    for n in 1..=3u32 {
        let mut ctx = store_ctx(1, 100 + n);
        assert_eq!(run_ok(&mut vm, "store", &mut ctx, 9), n as i64);
        let previous = if n == 1 { STORE_LINE_FIRST_PREVIOUS } else { 100 + n - 1 };
        assert_eq!(take(&out), [store_line(n, n, previous)]);
    }
    // The data section as the container sees it: .data starts with last_value.
    assert_eq!(get_u32(vm.data(), 0), 103, "last_value");
    // reset_data restores .data/.bss; the local store keeps counting.
    vm.reset_data();
    assert_eq!(get_u32(vm.data(), 0), STORE_LINE_FIRST_PREVIOUS);
    let mut ctx = store_ctx(1, 200);
    assert_eq!(run_ok(&mut vm, "store", &mut ctx, 9), 4);
    assert_eq!(take(&out), [store_line(4, 1, STORE_LINE_FIRST_PREVIOUS)]);
    // A preset local value is what the container fetches.
    assert!(vm.locals().update(1, 1000));
    assert_eq!(run_ok(&mut vm, "store", &mut ctx, 9), 1001);
    assert_eq!(take(&out), [store_line(1001, 2, 200)]);
}
}

every_engine! {
fn store_fails_when_the_pool_is_full() {
    // No free entry: bpf_store_global of a new key fails; -1, no output, the run itself is OK.
    let stores = StoreContext::new();
    let mut vm = load(&stores, "store");
    let out = capture(&mut vm);
    for k in 0..STORE_NUM_VALUES as u32 {
        assert!(vm.globals().update(1000 + k, k));
    }
    assert_eq!(stores.free(), 0);
    let mut ctx = store_ctx(5, 6);
    assert_eq!(run_ok(&mut vm, "store", &mut ctx, 9), -1);
    assert!(take(&out).is_empty());
    assert!(vm.locals().entries().is_empty());

    // One free entry: the global store succeeds, the local fetch (a new entry) fails.
    let stores = StoreContext::new();
    let mut vm = load(&stores, "store");
    let out = capture(&mut vm);
    for k in 0..STORE_NUM_VALUES as u32 - 1 {
        assert!(vm.globals().update(1000 + k, k));
    }
    let mut ctx = store_ctx(5, 6);
    assert_eq!(run_ok(&mut vm, "store", &mut ctx, 9), -1);
    assert!(take(&out).is_empty());
    assert_eq!(vm.globals().entries().first(), Some(&(5, 6)));
    assert!(vm.locals().entries().is_empty());
    assert_eq!(stores.free(), 0);

    // Two free entries: the first run takes both; overwriting needs no new entry, a new key does.
    let stores = StoreContext::new();
    let mut vm = load(&stores, "store");
    let out = capture(&mut vm);
    for k in 0..STORE_NUM_VALUES as u32 - 2 {
        assert!(vm.globals().update(1000 + k, k));
    }
    let mut ctx = store_ctx(5, 6);
    assert_eq!(run_ok(&mut vm, "store", &mut ctx, 9), 1);
    assert_eq!(take(&out), [store_line(1, 1, STORE_LINE_FIRST_PREVIOUS)]);
    assert_eq!(stores.free(), 0);
    let mut ctx = store_ctx(5, 7);
    assert_eq!(run_ok(&mut vm, "store", &mut ctx, 9), 2, "same key: overwrites");
    assert_eq!(take(&out), [store_line(2, 2, 6)]);
    let mut ctx = store_ctx(6, 8);
    assert_eq!(run_ok(&mut vm, "store", &mut ctx, 9), -1, "new key, full pool");
    assert!(take(&out).is_empty());
    assert_eq!(vm.locals().entries().as_slice(), &[(1, 2)]);
    assert_eq!(vm.globals().get(5), 7);
}
}

fn strings_ctx(count: u32) -> [u8; 64] {
    let mut ctx = [0xAAu8; 64];
    put_u32(&mut ctx, 0, count);
    put_u32(&mut ctx, 4, 0x5555_5555);
    ctx
}

every_engine! {
fn strings_copies_and_prints() {
    let stores = StoreContext::new();
    let mut vm = load(&stores, "strings");
    let out = capture(&mut vm);
    for count in [0u32, 1, 2, 7, 0x7fff_ffff, 0x8000_0000, u32::MAX] {
        let greeting = if count & 1 == 1 { "Greetings from an odd invocation!" } else { "Hello from a Femto-Container!" };
        let n = greeting.len();
        assert_eq!(n, if count & 1 == 1 { 33 } else { 29 });
        let mut ctx = strings_ctx(count);
        let r0 = run_ok(&mut vm, "strings", &mut ctx, 40);
        assert_eq!(r0, n as i64, "count {count}");
        let mut expected = strings_ctx(count);
        put_u32(&mut expected, 4, n as u32);
        expected[8..8 + n].copy_from_slice(greeting.as_bytes());
        expected[8 + n] = 0;
        assert_eq!(ctx, expected, "count {count}: length, text and its NUL; nothing after the NUL");
        let first = greeting.chars().next().unwrap();
        assert_eq!(
            take(&out),
            [
                "strings: plain literal format\n".to_string(),
                format!("strings: literal argument, count={count}\n"),
                format!("strings: copied {n} chars: '{greeting}' (first {first})\n"),
                "strings: 100% done\n".to_string(),
            ],
            "count {count}: printf output"
        );
    }
    // Too small a budget stops in the copy loop, before any printf.
    let stores = StoreContext::new();
    let mut vm = load(&stores, "strings");
    let out = capture(&mut vm);
    vm.set_budget(Some(10));
    let mut ctx = strings_ctx(1);
    assert_eq!(execute(&mut vm, &mut ctx), OUT_OF_BRANCHES as i64);
    assert_eq!(vm.last_error(), OUT_OF_BRANCHES);
    assert!(take(&out).is_empty());
    assert_out_of_branches("strings", &strings_ctx(0), 20);
}
}

fn counter_ctx(step: u32, limit: u32) -> [u8; 16] {
    let mut ctx = [0xEEu8; 16];
    put_u32(&mut ctx, 0, step);
    put_u32(&mut ctx, 4, limit);
    ctx
}

/// The counter model: (count, calls) -> (new count, new calls).
fn counter_step(count: u32, calls: u32, step: u32, limit: u32) -> (u32, u32) {
    let step = step.max(1);
    let mut next = count.wrapping_add(step);
    if limit != 0 && next > limit {
        next = 0;
    }
    (next, calls + 1)
}

every_engine! {
fn counter_keeps_state_in_the_local_store() {
    let stores = StoreContext::new();
    let mut vm = load(&stores, "counter");
    let out = capture(&mut vm);
    let (mut count, mut calls) = (0u32, 0u32);
    let steps = [(0u32, 0u32), (5, 0), (3, 10), (2, 10), (7, 7), (1, 7), (0, 1), (0, 1), (u32::MAX, 0), (1, 0), (4, 0)];
    for (step, limit) in steps {
        (count, calls) = counter_step(count, calls, step, limit);
        let mut ctx = counter_ctx(step, limit);
        let r0 = run_ok(&mut vm, "counter", &mut ctx, 9);
        assert_eq!(r0, count as i64, "step {step}, limit {limit}");
        let mut expected = counter_ctx(step, limit);
        put_u32(&mut expected, 8, count);
        put_u32(&mut expected, 12, calls);
        assert_eq!(ctx, expected, "step {step}, limit {limit}: context");
        assert_eq!(vm.locals().entries().as_slice(), &[(0x10, count), (0x11, calls)]);
        assert!(vm.globals().entries().is_empty());
    }
    assert!(take(&out).is_empty(), "counter prints nothing");

    // Host-preset state is what the container starts from.
    assert!(vm.locals().update(0x10, 100));
    let mut ctx = counter_ctx(3, 0);
    assert_eq!(run_ok(&mut vm, "counter", &mut ctx, 9), 103);
    assert_eq!(get_u32(&ctx, 12), calls + 1);

    // A second VM counts on its own; unloading frees the locals.
    let mut other = load(&stores, "counter");
    let mut ctx = counter_ctx(2, 0);
    assert_eq!(run_ok(&mut other, "counter", &mut ctx, 9), 2);
    assert_eq!((get_u32(&ctx, 8), get_u32(&ctx, 12)), (2, 1));
    assert_eq!(stores.free(), STORE_NUM_VALUES - 4);
    other.unload();
    vm.unload();
    assert_eq!(stores.free(), STORE_NUM_VALUES);
}
}

// ---------------------------------------------------------------------------------------------
// Budgets of the loop containers
// ---------------------------------------------------------------------------------------------

every_engine! {
fn named_budgets_suffice_and_smaller_ones_stop_the_loops() {
    // (container, worst-case context of its comment, named budget, clearly lower budget)
    let descending: Vec<u32> = (0..64).rev().collect();
    let mut fib93 = [0u8; 16];
    put_u32(&mut fib93, 0, 93);
    let cases: Vec<(&str, Vec<u8>, u32, u32)> = vec![
        ("fletcher32", words_ctx(&[0x1234; 180]), 400, 150),
        ("crc32", Rng(3).bytes(1024), 1100, 800),
        ("sort", values_ctx(&descending), 8192, 3000),
        ("fibonacci", fib93.to_vec(), 93 + 5, 60),
        ("strings", strings_ctx(1).to_vec(), 40, 25),
    ];
    for (name, ctx, named, low) in cases {
        let stores = StoreContext::new();
        let mut vm = load(&stores, name);
        let mut c = ctx.clone();
        run_ok(&mut vm, name, &mut c, named);
        for budget in [0, 1, low] {
            assert_out_of_branches(name, &ctx, budget);
        }
    }
}
}

// ---------------------------------------------------------------------------------------------
// Assembled programs: address map, faults, budget, helpers
// ---------------------------------------------------------------------------------------------

fn asm(source: &str) -> Vec<u8> {
    assemble(source).unwrap_or_else(|e| panic!("{e}\n{source}"))
}

fn conformance(source: &str, mem: &[u8]) -> Execution {
    run_conformance(&asm(source), mem)
}

/// A VM with bare program text loaded, built the way `run_conformance` builds it.
fn text_vm<'a>(stores: &'a StoreContext, profile: Profile, text: &'a [u8], rodata: &'a [u8], stack: usize) -> VirtualMachine<'a> {
    let mut vm = new_vm(stores);
    vm.environment().set_profile(profile);
    let parts = Parts { text, data: &[], bss_len: 0, rodata, functions: Vec::new() };
    assert!(vm.load_parts(parts, stack), "load failed: {:?}", vm.load_error());
    vm
}

every_engine! {
fn address_map_of_registers_at_entry() {
    assert_eq!(conformance("mov %r0, %r10\nexit", &[]), Execution::Returned(0x3000_0000 + 512), "one frame");
    assert_eq!(conformance("mov %r0, %r1\nexit", &[1, 2, 3, 4]), Execution::Returned(0x4000_0000));
    assert_eq!(conformance("mov %r0, %r2\nexit", &[1, 2, 3, 4]), Execution::Returned(4));
    assert_eq!(conformance("mov %r0, %r1\nexit", &[]), Execution::Returned(0), "no context: r1 = 0");
    assert_eq!(conformance("mov %r0, %r2\nexit", &[]), Execution::Returned(0), "no context: r2 = 0");

    // One local call: 2 frames reserved; the callee's r10 is the caller's minus 512.
    let callee_r10 = "call local f\nexit\nf:\nmov %r0, %r10\nexit";
    assert_eq!(conformance(callee_r10, &[]), Execution::Returned(0x3000_0000 + 1024 - 512));
    let caller_r10 = "call local f\nmov %r0, %r10\nexit\nf:\nmov %r0, 0\nexit";
    assert_eq!(conformance(caller_r10, &[]), Execution::Returned(0x3000_0000 + 1024));
    // Depth 2: three frames.
    let nested = "call local f\nexit\nf:\ncall local g\nexit\ng:\nmov %r0, %r10\nexit";
    assert_eq!(conformance(nested, &[]), Execution::Returned(0x3000_0000 + 1536 - 1024));
    let nested_top = "call local f\nmov %r0, %r10\nexit\nf:\ncall local g\nexit\ng:\nmov %r0, 0\nexit";
    assert_eq!(conformance(nested_top, &[]), Execution::Returned(0x3000_0000 + 1536));

    // Another frame size moves r10 accordingly.
    let stores = StoreContext::new();
    let text = asm(callee_r10);
    let mut vm = text_vm(&stores, Profile::Conformance, &text, &[], 64);
    assert_eq!(execute(&mut vm, &mut []), 0x3000_0000 + 128 - 64);
    assert_eq!(vm.last_error(), OK);

    // The top of the stack is writable, the byte at r10 is not.
    assert_eq!(conformance("stdw [%r10-8], 7\nldxdw %r0, [%r10-8]\nexit", &[]), Execution::Returned(7));
    assert_eq!(conformance("mov %r0, 0\nldxb %r0, [%r10+0]\nexit", &[]), Execution::Failed("ILLEGAL_MEM at insn 1".into()));
    // The stack is zeroed at every run.
    let text = asm("ldxdw %r0, [%r10-8]\nstdw [%r10-8], 99\nexit");
    let mut vm = text_vm(&stores, Profile::Conformance, &text, &[], STACK);
    assert_eq!(execute(&mut vm, &mut []), 0);
    assert_eq!(execute(&mut vm, &mut []), 0, "no data survives on the stack from one run to the next");
}
}

every_engine! {
fn illegal_mem_reports_the_faulting_slot() {
    let stores = StoreContext::new();
    // One byte past a 4-byte context, at instruction 2.
    let text = asm("mov %r0, 0\nmov %r3, 1\nldxw %r0, [%r1+1]\nexit");
    let mut vm = text_vm(&stores, Profile::Conformance, &text, &[], STACK);
    let mut mem = [1u8, 2, 3, 4];
    let r0 = execute(&mut vm, &mut mem);
    assert_eq!((r0, vm.last_error(), vm.last_error_pc()), (ILLEGAL_MEM as i64, ILLEGAL_MEM, 2));
    // The same read one byte earlier is fine.
    let text_ok = asm("mov %r0, 0\nmov %r3, 1\nldxw %r0, [%r1+0]\nexit");
    let mut vm = text_vm(&stores, Profile::Conformance, &text_ok, &[], STACK);
    assert_eq!(execute(&mut vm, &mut mem), 0x0403_0201);
    assert_eq!(vm.last_error(), OK);

    // The index is the slot index: an LDDW before the fault counts twice.
    let text = asm("lddw %r3, 0x1122334455667788\nmov %r0, 0\nstxw [%r1+2], %r3\nexit");
    let mut vm = text_vm(&stores, Profile::Conformance, &text, &[], STACK);
    let mut mem = [0u8; 4];
    execute(&mut vm, &mut mem);
    assert_eq!((vm.last_error(), vm.last_error_pc()), (ILLEGAL_MEM, 3));
    assert_eq!(mem, [0; 4], "a denied store writes nothing");

    // Upper 32 bits set: outside every region, although the low half is the context.
    let text = asm("lddw %r2, 0x140000000\nldxb %r0, [%r2+0]\nexit");
    let mut vm = text_vm(&stores, Profile::Conformance, &text, &[], STACK);
    let mut mem = [9u8; 4];
    execute(&mut vm, &mut mem);
    assert_eq!((vm.last_error(), vm.last_error_pc()), (ILLEGAL_MEM, 2));
    let text = asm("lddw %r2, 0x40000000\nldxb %r0, [%r2+0]\nexit");
    let mut vm = text_vm(&stores, Profile::Conformance, &text, &[], STACK);
    assert_eq!(execute(&mut vm, &mut mem), 9, "the same address without the upper bits is the context");

    // Slot 0 and unmapped slots.
    for addr in ["0x0", "0x20000000", "0x50000000", "0xf0000000"] {
        let text = asm(&format!("lddw %r2, {addr}\nldxb %r0, [%r2+0]\nexit"));
        let mut vm = text_vm(&stores, Profile::Conformance, &text, &[], STACK);
        execute(&mut vm, &mut mem);
        assert_eq!((vm.last_error(), vm.last_error_pc()), (ILLEGAL_MEM, 2), "read at {addr}");
    }
}
}

every_engine! {
fn rodata_is_readable_but_not_writable() {
    // crc32.bin's rodata holds the CRC table; compute its first entries independently.
    let table: Vec<u8> = (0..8u32)
        .flat_map(|n| {
            let mut c = n;
            for _ in 0..8 {
                c = if c & 1 != 0 { (c >> 1) ^ 0xEDB8_8320 } else { c >> 1 };
            }
            c.to_le_bytes()
        })
        .collect();
    let parsed = Container::parse(container("crc32"), LayoutChoice::Auto).expect("crc32.bin parses");
    let rodata = parsed.rodata;
    let at = rodata.windows(table.len()).position(|w| w == table.as_slice()).expect("CRC table in crc32's rodata");
    let stores = StoreContext::new();

    let read = asm(&format!("mov %r1, 0x10000000\nldxw %r0, [%r1+{}]\nexit", at + 4));
    let mut vm = text_vm(&stores, Profile::Sming, &read, rodata, STACK);
    assert_eq!(execute(&mut vm, &mut []), 0x7707_3096, "crc32_table[1] at 0x1000_0000 + offset");
    assert_eq!(vm.last_error(), OK);

    let write = asm("mov %r0, 0\nmov %r1, 0x10000000\nstw [%r1+0], 1\nexit");
    let mut vm = text_vm(&stores, Profile::Sming, &write, rodata, STACK);
    execute(&mut vm, &mut []);
    assert_eq!((vm.last_error(), vm.last_error_pc()), (ILLEGAL_MEM, 2), "store to rodata");

    let lddw_write = asm("lddw %r1, .rodata+8\nmov %r2, 5\nstxb [%r1+0], %r2\nexit");
    let mut vm = text_vm(&stores, Profile::Sming, &lddw_write, rodata, STACK);
    execute(&mut vm, &mut []);
    assert_eq!((vm.last_error(), vm.last_error_pc()), (ILLEGAL_MEM, 3), "store through an 0xd8 LDDW address");

    // Past the end of rodata.
    let past = asm(&format!("mov %r1, 0x10000000\nldxb %r0, [%r1+{}]\nexit", rodata.len()));
    let mut vm = text_vm(&stores, Profile::Sming, &past, rodata, STACK);
    execute(&mut vm, &mut []);
    assert_eq!((vm.last_error(), vm.last_error_pc()), (ILLEGAL_MEM, 1));
    let last = asm(&format!("mov %r1, 0x10000000\nldxb %r0, [%r1+{}]\nexit", rodata.len() - 1));
    let mut vm = text_vm(&stores, Profile::Sming, &last, rodata, STACK);
    assert_eq!(execute(&mut vm, &mut []), rodata[rodata.len() - 1] as i64);
    assert_eq!(vm.last_error(), OK);
}
}

every_engine! {
fn out_of_branches_after_exactly_the_budget() {
    let stores = StoreContext::new();
    // Endless loop storing its iteration count: jump k + 1 is refused with budget k.
    let endless = asm("mov %r0, 0\nL: add %r0, 1\nstxw [%r1+0], %r0\nja L");
    for budget in [0u32, 1, 200] {
        let mut vm = text_vm(&stores, Profile::Conformance, &endless, &[], STACK);
        vm.set_budget(Some(budget));
        let mut mem = [0u8; 4];
        let r0 = execute(&mut vm, &mut mem);
        assert_eq!((r0, vm.last_error(), vm.last_error_pc()), (OUT_OF_BRANCHES as i64, OUT_OF_BRANCHES, 3), "budget {budget}");
        assert_eq!(get_u32(&mem, 0), budget + 1, "budget {budget}: iterations before the refused jump");
    }

    // A loop taking exactly n jumps, then exiting with r0 = n + 1.
    for n in [0u32, 1, 200] {
        let text = asm(&format!("mov %r0, 0\nL: add %r0, 1\njlt %r0, {}, L\nexit", n + 1));
        let mut vm = text_vm(&stores, Profile::Conformance, &text, &[], STACK);
        vm.set_budget(Some(n));
        assert_eq!(execute(&mut vm, &mut []), n as i64 + 1, "{n} jumps with budget {n}");
        assert_eq!(vm.last_error(), OK);
        if n > 0 {
            vm.set_budget(Some(n - 1));
            assert_eq!(execute(&mut vm, &mut []), OUT_OF_BRANCHES as i64, "{n} jumps with budget {}", n - 1);
            assert_eq!((vm.last_error(), vm.last_error_pc()), (OUT_OF_BRANCHES, 2));
        }
        // A new run gets the whole budget again.
        vm.set_budget(Some(n));
        assert_eq!(execute(&mut vm, &mut []), n as i64 + 1);
        assert_eq!(vm.last_error(), OK);
    }

    // The default budget is 200; no budget at all lets long loops finish.
    let text = asm("mov %r0, 0\nL: add %r0, 1\njlt %r0, 201, L\nexit");
    let mut vm = text_vm(&stores, Profile::Conformance, &text, &[], STACK);
    assert_eq!(execute(&mut vm, &mut []), 201);
    let text = asm("mov %r0, 0\nL: add %r0, 1\njlt %r0, 202, L\nexit");
    let mut vm = text_vm(&stores, Profile::Conformance, &text, &[], STACK);
    assert_eq!(execute(&mut vm, &mut []), OUT_OF_BRANCHES as i64, "201 jumps exceed the default budget");
    vm.set_budget(None);
    assert_eq!(execute(&mut vm, &mut []), 202);
    let text = asm("mov %r0, 0\nL: add %r0, 1\njlt %r0, 100000, L\nexit");
    let mut vm = text_vm(&stores, Profile::Conformance, &text, &[], STACK);
    vm.set_budget(None);
    assert_eq!(execute(&mut vm, &mut []), 100_000);
    assert_eq!(vm.last_error(), OK);

    // Jumps not taken and calls do not count.
    let text = asm("mov %r0, 0\njeq %r0, 1, +0\njne %r0, 0, +0\ncall local f\nexit\nf:\nmov %r0, 5\nexit");
    let mut vm = text_vm(&stores, Profile::Conformance, &text, &[], STACK);
    vm.set_budget(Some(0));
    assert_eq!(execute(&mut vm, &mut []), 5);
    assert_eq!(vm.last_error(), OK);
}
}

every_engine! {
fn application_helpers() {
    let stores = StoreContext::new();
    let text = asm("mov %r1, 20\nmov %r2, 22\ncall 0x100\nexit");
    let parts = || Parts { text: &text, data: &[], bss_len: 0, rodata: &[], functions: Vec::new() };

    // Not registered: the load fails with ILLEGAL_CALL at the call.
    let mut vm = new_vm(&stores);
    assert_eq!(vm.environment().profile(), Profile::Sming);
    assert!(!vm.load_parts(parts(), STACK));
    assert_eq!((vm.last_error(), vm.last_error_pc()), (ILLEGAL_CALL, 2));
    assert!(!vm.is_loaded());
    assert_eq!(vm.load_error().map(|e| e.code()), Some(ErrorCode::IllegalCall));

    // Ids below 0x100 cannot be registered.
    assert!(!vm.environment().register(0x01, 1, |_args, _mem| 0));
    assert!(!vm.environment().register(0xff, 1, |_args, _mem| 0));

    assert!(vm.environment().register(0x100, 2, |args: [u64; 5], _mem: &mut fc_runtime::memory::HelperMemory| args[0] + args[1]));
    assert!(vm.load_parts(parts(), STACK), "{:?}", vm.load_error());
    assert_eq!(execute(&mut vm, &mut []), 42);
    assert_eq!(vm.last_error(), OK);

    // Re-registering replaces the helper.
    assert!(vm.environment().register(0x100, 2, |args: [u64; 5], _mem: &mut fc_runtime::memory::HelperMemory| args[0] * args[1]));
    assert_eq!(execute(&mut vm, &mut []), 440);

    // Every profile offers what the host registered (`fc-aot conformance --app-helper`),
    // and nothing it did not.
    let mut vm = new_vm(&stores);
    vm.environment().set_profile(Profile::Conformance);
    assert!(!vm.load_parts(parts(), STACK));
    assert_eq!(vm.last_error(), ILLEGAL_CALL);
    let mut vm = new_vm(&stores);
    vm.environment().set_profile(Profile::Conformance);
    vm.environment().register(0x100, 2, |args: [u64; 5], _mem: &mut fc_runtime::memory::HelperMemory| args[0] + args[1]);
    assert!(vm.load_parts(parts(), STACK));
    assert_eq!(execute(&mut vm, &mut []), 42);
}
}

every_engine! {
fn application_helpers_see_container_memory() {
    let stores = StoreContext::new();
    // 0x101(addr, len): sum of the bytes, or -1 when the range is not readable.
    // 0x102(addr, byte): writes 4 copies of byte at addr, 0 or -1.
    let text = asm(
        "mov %r6, %r1\nmov %r7, %r2\n\
         call 0x101\nmov %r8, %r0\n\
         mov %r1, %r6\nmov %r2, %r7\nadd %r2, 1\ncall 0x101\nmov %r9, %r0\n\
         mov %r1, %r6\nmov %r2, 0xAB\ncall 0x102\n\
         mov %r1, 0x10000000\nmov %r2, 0xCD\ncall 0x102\n\
         add %r0, %r9\nadd %r0, %r8\nexit",
    );
    let rodata = [0u8; 8];
    let mut vm = new_vm(&stores);
    let env = vm.environment();
    env.register(0x101, 2, |args: [u64; 5], mem: &mut fc_runtime::memory::HelperMemory| match mem.read(args[0], args[1] as usize) {
        Some(bytes) => bytes.iter().map(|&b| b as u64).sum(),
        None => u64::MAX,
    });
    env.register(0x102, 2, |args: [u64; 5], mem: &mut fc_runtime::memory::HelperMemory| match mem.write(args[0], 4) {
        Some(bytes) => {
            bytes.fill(args[1] as u8);
            0
        }
        None => u64::MAX,
    });
    let parts = Parts { text: &text, data: &[], bss_len: 0, rodata: &rodata, functions: Vec::new() };
    assert!(vm.load_parts(parts, STACK), "{:?}", vm.load_error());
    let mut mem = [1u8, 2, 3, 4, 5, 6];
    let r0 = execute(&mut vm, &mut mem);
    assert_eq!(vm.last_error(), OK);
    // sum = 21; the range one byte too long fails (-1); the rodata write fails (-1).
    assert_eq!(r0 as u64, 21u64.wrapping_add(u64::MAX).wrapping_add(u64::MAX));
    assert_eq!(mem, [0xAB, 0xAB, 0xAB, 0xAB, 5, 6], "the helper wrote through the map");
    assert_eq!(rodata, [0; 8]);
}
}

every_engine! {
fn printf_with_a_bad_string_pointer_fails_quietly() {
    let stores = StoreContext::new();
    let text = asm("mov %r2, 0x50000000\ncall 1\nexit");
    let mut vm = text_vm(&stores, Profile::Sming, &text, &[], STACK);
    let out = capture(&mut vm);
    let mut mem = *b"x=%s\0ok\0";
    let r0 = execute(&mut vm, &mut mem);
    assert_eq!(vm.last_error(), OK, "a failing helper does not stop the program");
    assert_eq!(r0 as u64, u64::MAX, "printf returns an int -1 as a 64-bit -1");
    assert!(take(&out).is_empty(), "nothing printed");

    // The same format with a good %s pointer prints; output without a newline arrives at the end.
    let text = asm("mov %r2, %r1\nadd %r2, 5\ncall 1\nexit");
    let mut vm = text_vm(&stores, Profile::Sming, &text, &[], STACK);
    let out = capture(&mut vm);
    assert_eq!(execute(&mut vm, &mut mem), 4, "characters written");
    assert_eq!(take(&out), ["x=ok"]);

    // A %s string running to the end of its region without a NUL is bad too.
    let text = asm("mov %r2, %r1\nadd %r2, 5\ncall 1\nexit");
    let mut vm = text_vm(&stores, Profile::Sming, &text, &[], STACK);
    let out = capture(&mut vm);
    let mut mem = *b"x=%s\0okk";
    assert_eq!(execute(&mut vm, &mut mem) as u64, u64::MAX);
    assert_eq!(vm.last_error(), OK);
    assert!(take(&out).is_empty());
}
}

every_engine! {
fn unloaded_vm_and_bad_loads() {
    let stores = StoreContext::new();
    let mut vm = new_vm(&stores);
    assert!(!vm.is_loaded());
    assert_eq!(execute(&mut vm, &mut []), NO_MEMORY as i64);
    assert_eq!(vm.last_error(), NO_MEMORY);
    let mut ctx = 41u64.to_le_bytes();
    assert_eq!(execute(&mut vm, &mut ctx), NO_MEMORY as i64);
    assert_eq!(execute_function(&mut vm, "increment", &mut ctx), NO_MEMORY as i64);

    // Loaded, then unloaded.
    assert!(vm.load(container("increment"), STACK));
    assert_eq!(execute(&mut vm, &mut ctx), 42);
    vm.unload();
    assert_eq!(execute(&mut vm, &mut ctx), NO_MEMORY as i64);
    assert_eq!(vm.last_error(), NO_MEMORY);

    // A stack size that is not a positive multiple of 8, and a truncated container: ILLEGAL_LEN.
    assert!(!vm.load(container("increment"), 0));
    assert_eq!(vm.last_error(), ErrorCode::IllegalLen as i32);
    assert!(!vm.load(container("increment"), 12));
    assert_eq!(vm.last_error(), ErrorCode::IllegalLen as i32);
    let bytes = container("increment");
    assert!(!vm.load(&bytes[..bytes.len() - 1], STACK));
    assert_eq!(vm.last_error(), ErrorCode::IllegalLen as i32);
    assert_eq!(execute(&mut vm, &mut ctx), NO_MEMORY as i64, "a failed load leaves nothing loaded");
}
}

every_engine! {
fn memcpy_with_a_length_near_2_to_the_64_fails_cleanly() {
    // n = 2^64 - 16 from a destination 16 bytes into the context: the bounds check must
    // not wrap around (a debug build once panicked here, a release build could copy).
    let text = asm("mov %r2, %r1\nadd %r1, 16\nlddw %r3, 0xfffffffffffffff0\ncall 2\nexit");
    let stores = StoreContext::new();
    let mut vm = text_vm(&stores, Profile::Sming, &text, &[], STACK);
    let mut ctx = [7u8; 32];
    assert_eq!(execute(&mut vm, &mut ctx), -1, "memcpy fails with -1");
    assert_eq!(vm.last_error(), OK);
    assert_eq!(ctx, [7u8; 32], "nothing copied");
}
}

every_engine! {
fn extra_regions_follow_the_address_map() {
    // Slot 5: read-only host table; slot 6: read-write host buffer.
    let text = asm("lddw %r1, 0x50000000\nldxw %r0, [%r1+4]\nlddw %r2, 0x60000000\nstxw [%r2+0], %r0\nexit");
    let table: [u8; 8] = [1, 2, 3, 4, 0x78, 0x56, 0x34, 0x12];
    let mut buffer = [0u8; 4];
    {
        let stores = StoreContext::new();
        let mut vm = text_vm(&stores, Profile::Sming, &text, &[], STACK);
        assert_eq!(vm.add_readonly_region(&table), Ok(0x5000_0000));
        assert_eq!(vm.add_region(&mut buffer), Ok(0x6000_0000));
        assert_eq!(execute(&mut vm, &mut []), 0x1234_5678);
    }
    assert_eq!(buffer, [0x78, 0x56, 0x34, 0x12], "the host sees the container's write");

    // Writing the read-only region, or reading past it, stops with ILLEGAL_MEM at that slot.
    let write_ro = asm("lddw %r1, 0x50000000\nstw [%r1+0], 1\nmov %r0, 0\nexit");
    let stores = StoreContext::new();
    let mut vm = text_vm(&stores, Profile::Sming, &write_ro, &[], STACK);
    vm.add_readonly_region(&table).unwrap();
    execute(&mut vm, &mut []);
    assert_eq!((vm.last_error(), vm.last_error_pc()), (ILLEGAL_MEM, 2));
    let past = asm("lddw %r1, 0x50000000\nldxw %r0, [%r1+5]\nexit");
    let mut vm = text_vm(&stores, Profile::Sming, &past, &[], STACK);
    vm.add_readonly_region(&table).unwrap();
    execute(&mut vm, &mut []);
    assert_eq!((vm.last_error(), vm.last_error_pc()), (ILLEGAL_MEM, 2));
}
}
