//! `cargo test -p fc-bench`: every kernel once on every engine that can run it, checked
//! against native (r0, context, stores). No timing, no callgrind.

use std::path::PathBuf;
use std::sync::OnceLock;

use fc_aot::container::build::Cpu;

use crate::engines::{self, EngineKind};
use crate::kernels::{self, KERNELS};

const CPUS: [Cpu; 2] = [Cpu::V1, Cpu::V3];

/// The kernels built once for both cpus, in a folder of the tests' own (no race with `table`).
fn built() -> &'static PathBuf {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| {
        let root = engines::workspace_root().join("target/fc-bench-test");
        for cpu in CPUS {
            engines::build_all(&root, cpu).unwrap_or_else(|e| panic!("{e}"));
        }
        root
    })
}

#[test]
fn every_engine_agrees_with_native_on_every_kernel() {
    let root = built();
    let mut ran = Vec::new();
    for cpu in CPUS {
        for kernel in &KERNELS {
            // Every engine but native itself: interp, reference, rbpf, jit, rbpf-jit.
            for engine in EngineKind::MEASURED.into_iter().skip(1) {
                match engines::check(engine, kernel, root, cpu) {
                    Ok(None) => ran.push((engines::cpu_name(cpu), kernel.name, engine)),
                    Ok(Some(reason)) => {
                        assert!(engine.is_rbpf(), "only the rbpf crate's engines may be unable to run a kernel: {reason}");
                        if cfg!(target_arch = "x86_64") || engine == EngineKind::Rbpf {
                            // The only kernel rbpf cannot run is the one with its table in .rodata.
                            assert_eq!(kernel.name, "crc32", "{engine} n/a on {}: {reason}", kernel.name);
                        }
                    }
                    Err(e) => panic!("{e}"),
                }
            }
        }
    }
    // interp, reference and jit on all 7 kernels, rbpf and (x86-64 only) rbpf-jit on 6, for both cpus.
    let rbpf_jit = if cfg!(target_arch = "x86_64") { 6 } else { 0 };
    assert_eq!(ran.len(), 2 * (3 * 7 + 6 + rbpf_jit), "{ran:?}");
}

#[test]
fn callgrind_unmapped_self_cost_counts_jit_code_only() {
    // Object 2 (`???`) holds JIT code: its self costs count, the inclusive cost after
    // `calls=` does not, nor does anything of a named object.
    let out = "events: Ir\n\
               ob=(1) /bin/x\nfn=(1) f\n0 5\ncob=(2) ???\ncfn=(2) 0x1000\ncalls=1 0\n0 100\n\
               ob=(2)\nfn=(2)\n0 90\ncfn=(3) 0x2000\ncalls=2 0\n0 10\n\
               fn=(3) 0x2000\n0 10\n\
               ob=(1)\nfn=(4) g\n0 7\n";
    assert_eq!(crate::measure::parse_unmapped_self(out), 100);
}

#[test]
fn kernels_fit_the_budget_their_header_states() {
    let root = built();
    for cpu in CPUS {
        for kernel in &KERNELS {
            let mut r = engines::runner_with_budget(EngineKind::Interp, kernel, root, cpu, Some(kernel.budget)).unwrap();
            let mut ctx = (kernel.context)();
            if let Err(e) = r.run(&mut ctx) {
                panic!("{} -mcpu={}: {e} with budget {}", kernel.name, engines::cpu_name(cpu), kernel.budget);
            }
        }
    }
}

#[test]
fn native_kernels_compute_the_documented_functions() {
    let run = |name: &str| {
        let k = kernels::kernel(name).unwrap();
        let mut ctx = (k.context)();
        let r0 = unsafe { (k.native)(ctx.as_mut_ptr()) };
        (r0, ctx)
    };
    // CRC-32 (zlib) of the data, bit by bit, equals both table-driven kernels.
    let data = &run("crc32").1;
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    let crc = (crc ^ 0xFFFF_FFFF) as i64;
    assert_eq!(run("crc32").0, crc);
    assert_eq!(run("crc32_ctxtable").0, crc);
    // The sort sorts.
    let (swaps, ctx) = run("sort");
    let v: Vec<u32> = ctx.chunks(4).map(|c| u32::from_le_bytes(c.try_into().unwrap())).collect();
    assert!(v.windows(2).all(|w| w[0] <= w[1]) && swaps > 0);
}

#[test]
fn callgrind_totals_parse() {
    let out = "events: Ir\nfn=(1) x\n5 3\nsummary: 1234\ntotals: 1234\n";
    assert_eq!(crate::measure::parse_total(out), Some(1234));
    assert_eq!(crate::measure::parse_total("totals: 77 1\n"), Some(77));
    assert_eq!(crate::measure::parse_total("events: Ir\n"), None);
}
