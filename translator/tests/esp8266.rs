//! The `c` engine on `--target esp8266`: the emitted C cross-compiled for the Xtensa
//! LX106, call0 ABI (xtensa-lx106-elf-gcc -mlongcalls) with the bare-metal start-up and
//! 64-bit helpers of targets/esp8266/ and the harness of targets/esp8266/, run under
//! qemu-xtensa -cpu lx106.
//!
//! Needs `gcc-xtensa-lx106`, `binutils-xtensa-lx106`, `qemu-user` and clang (to build the samples).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

use fc_aot::conformance::{run_dir, Executor, Summary, Verdict};
use fc_aot::engines::{EngineKind, Target};
use fc_aot::esp8266::{link, prog_c, run, run_container, Placement, Run};
use fc_runtime::format::{Container, LayoutChoice};
use fc_runtime::stores::StoreContext;
use fc_runtime::VirtualMachine;

mod common;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn the_conformance_suite_passes_on_esp8266() {
    let mut failures = Vec::new();
    let mut skipped = Vec::new();
    let summary = run_dir(&root().join("conformance/bpf_conformance/tests"), &Executor::Engine(EngineKind::C, Target::Esp8266), |name, v| {
        match v {
            Verdict::Fail(why) => failures.push(format!("{name}: {why}")),
            Verdict::Skip(_) => skipped.push(name.to_string()),
            Verdict::Pass => {}
        }
    })
    .unwrap();
    assert!(failures.is_empty(), "{failures:#?}");
    assert_eq!(summary, Summary { passed: 312, failed: 0, skipped: 1 });
    assert_eq!(skipped, ["callx.data"]);
}

#[test]
fn the_cli_runs_the_suite_on_esp8266() {
    // A few files through the command line: the target's clap name and the summary line.
    let dir = std::env::temp_dir().join(format!("fc-aot-esp8266-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let suite = root().join("conformance/bpf_conformance/tests");
    for name in ["add.data", "div64-by-zero-reg.data", "call_unwind_fail.data", "ldxb-all.data", "callx.data"] {
        let from = suite.join(name);
        if from.exists() {
            std::fs::copy(&from, dir.join(name)).unwrap();
        }
    }
    let count = std::fs::read_dir(&dir).unwrap().count();
    let out = Command::new(env!("CARGO_BIN_EXE_fc-aot"))
        .args(["conformance", dir.to_str().unwrap(), "--engine", "c", "--target", "esp8266"])
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let skipped = usize::from(suite.join("callx.data").exists());
    let want = format!("{} passed, 0 failed, {skipped} skipped", count - skipped);
    assert_eq!(stdout.lines().last(), Some(want.as_str()), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
}

/// `NAME -> (context, budget)` exactly as scripts/demo runs the samples (budget 200 for a
/// sample without a line in `containers/samples.txt`).
fn demo_contexts() -> BTreeMap<String, (Vec<u8>, u32)> {
    let table = common::sample_table().into_iter();
    table.map(|(name, (hex, budget))| (name, (fc_aot::conformance::parse_plugin_hex(&hex).unwrap(), budget))).collect()
}

/// Every sample container, built with `fc-aot build`.
fn built() -> BTreeMap<String, Vec<u8>> {
    let out = std::env::temp_dir().join(format!("fc-aot-esp8266-containers-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_fc-aot")).arg("build").arg(root().join("containers")).arg("--out").arg(&out).output().unwrap();
    assert!(o.status.success(), "fc-aot build: {}", String::from_utf8_lossy(&o.stderr));
    let mut bins = BTreeMap::new();
    for entry in std::fs::read_dir(&out).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "bin") {
            bins.insert(path.file_stem().unwrap().to_string_lossy().into_owned(), std::fs::read(&path).unwrap());
        }
    }
    let _ = std::fs::remove_dir_all(&out);
    bins
}

/// The reference interpreter (profile sming, 512-byte frames): `runs` runs on one VM.
fn reference(bin: &[u8], ctx: &[u8], budget: u32, runs: u32) -> Vec<Run> {
    let stores = StoreContext::new();
    let lines = std::cell::RefCell::new(Vec::<String>::new());
    let mut vm = VirtualMachine::new(&stores);
    vm.set_engine(fc_aot::engines::engine(EngineKind::Reference, Target::Host).unwrap());
    vm.environment().set_output(|line: &[u8]| {
        let text = String::from_utf8_lossy(line);
        lines.borrow_mut().push(text.strip_suffix('\n').unwrap_or(&text).to_string());
    });
    assert!(vm.load(bin, 512), "{:?}", vm.load_error());
    vm.set_budget(Some(budget));
    let mut out = Vec::new();
    for _ in 0..runs {
        let mut c = ctx.to_vec();
        let r0 = vm.execute(&mut c) as u64;
        let error = vm.last_error();
        out.push(Run {
            r0: (error == 0).then_some(r0),
            error,
            error_pc: (error != 0).then(|| vm.last_error_pc()),
            printf: std::mem::take(&mut *lines.borrow_mut()),
            ctx: c,
            data: vm.data().to_vec(),
            globals: vm.globals().entries().to_vec(),
            locals: vm.locals().entries().to_vec(),
        });
    }
    out
}

#[test]
fn every_sample_container_matches_the_reference_on_esp8266() {
    let contexts = demo_contexts();
    let bins = built();
    assert!(bins.len() >= 12, "samples built: {:?}", bins.keys());
    let mut checked = Vec::new();
    for (name, bin) in &bins {
        let (ctx, budget) = contexts.get(name).cloned().unwrap_or_else(|| (Vec::new(), 200));
        let container = Container::parse(bin, LayoutChoice::Auto).unwrap();
        // Two runs in one process: data, bss and the stores carry over, as on a loaded VM.
        let want = reference(bin, &ctx, budget, 2);
        let got = run_container(&container, &ctx, Some(budget), 2, Placement::Flash).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(got, want, "{name}: esp8266 (left) against the reference (right)");
        // One budget too small where the sample loops: the same error at the same slot
        // (translated code in IRAM this time).
        if budget > 200 {
            let want = reference(bin, &ctx, budget / 8, 1);
            assert_ne!(want[0].error, 0, "{name}: budget {} should not be enough", budget / 8);
            let got = run_container(&container, &ctx, Some(budget / 8), 1, Placement::Iram).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(got, want, "{name} with budget {}: esp8266 (left) against the reference (right)", budget / 8);
        }
        checked.push(format!(
            "{name} (r0 {:?}, {} printf lines, {} store entries)",
            got[1].r0,
            got[1].printf.len(),
            got[1].globals.len() + got[1].locals.len()
        ));
    }
    for name in contexts.keys() {
        assert!(bins.contains_key(name), "containers/samples.txt has a line for {name}, which was not built");
    }
    eprintln!("checked on esp8266:\n  {}", checked.join("\n  "));
}

#[test]
fn translated_code_goes_where_fc_container_ld_puts_it() {
    // crc32: code, and a table in rodata.
    let bins = built();
    let container = Container::parse(&bins["crc32"], LayoutChoice::Auto).unwrap();
    let program = fc_aot::translate::verify(&container, fc_runtime::helpers::Profile::Sming).unwrap();
    let source = prog_c(&program, container.data, container.header.bss_len as usize, container.rodata);
    let ctx: String = (0..1024).map(|i| format!("{:02x}", (i * 31 + 7) & 255)).collect();
    // The chip's map moved down by 0x1000_0000 (qemu-xtensa maps only the lower 1 GiB):
    // flash (.irom0.text) 0x3020_1010 up, IRAM 0x3010_0000 (32 KiB), DRAM 0x2FFE_8000 (80 KiB).
    for (placement, lo, hi) in [(Placement::Flash, 0x3020_1010u32, 0x3030_0000u32), (Placement::Iram, 0x3010_0000, 0x3010_8000)] {
        let dir = std::env::temp_dir().join(format!("fc-aot-esp8266-placement-{}-{placement:?}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let exe = link(&source, &dir, placement).unwrap();
        let nm = Command::new("xtensa-lx106-elf-nm").arg(&exe).output().unwrap();
        let symbols: BTreeMap<String, u32> = String::from_utf8_lossy(&nm.stdout)
            .lines()
            .filter_map(|l| {
                let mut f = l.split_whitespace();
                let addr = u32::from_str_radix(f.next()?, 16).ok()?;
                let _kind = f.next()?;
                Some((f.next()?.to_string(), addr))
            })
            .collect();
        for symbol in ["fc_prog_main", "_fc_containers_text_start"] {
            let addr = symbols[symbol];
            assert!((lo..hi).contains(&addr), "{placement:?}: {symbol} at {addr:#x}");
        }
        assert!(symbols["_fc_containers_text_end"] > symbols["_fc_containers_text_start"]);
        // The harness stays in flash, the table in DRAM rodata (flash only takes aligned
        // 32-bit loads on the chip), the context in the qemu-only RAM.
        assert!((0x3020_1010..0x3030_0000).contains(&symbols["main"]), "main at {:#x}", symbols["main"]);
        assert!((0x2FFE_8000..0x2FFF_C000).contains(&symbols["fc_prog_rodata"]));
        assert!((0x2FA0_0000..0x2FB0_0000).contains(&symbols["memory"]));
        let (ok, out) = run(&exe, std::slice::from_ref(&ctx)).unwrap();
        assert!(ok, "{out}");
        assert_eq!(out.trim(), "0x7c321b5d", "{placement:?}: CRC-32 of the demo context");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn faults_stop_with_the_error_and_the_slot() {
    use fc_aot::engines::{run_conformance, Execution};
    let run = |text: &str, mem: &[u8]| run_conformance(EngineKind::C, Target::Esp8266, &fc_aot::asm::assemble(text).unwrap(), mem);
    let mem = [1u8, 2, 3, 4];
    assert_eq!(run("ldxw %r0, [%r1+0]\nexit", &mem), Execution::Returned(0x0403_0201));
    // One byte past the context, and a store to an unmapped slot.
    assert_eq!(run("mov %r0, 0\nldxw %r0, [%r1+1]\nexit", &mem), Execution::Failed("error -2 at insn 1".into()));
    assert_eq!(run("lddw %r2, 0x50000000\nstb [%r2+0], 1\nexit", &mem), Execution::Failed("error -2 at insn 2".into()));
    // An endless loop ends with OUT_OF_BRANCHES after 1 << 24 taken jumps.
    assert_eq!(run("mov %r0, 0\nja -1\nexit", &[]), Execution::Failed("error -8 at insn 1".into()));
    // A program the verifier refuses never reaches the compiler.
    assert!(matches!(run("ja +5\nexit", &[]), Execution::Rejected(_)));
}

#[test]
fn the_64_bit_and_division_helpers_agree_with_the_reference() {
    // libgcc_extra.c (__muldi3, __udivdi3, __umoddi3, __divsi3, ...) through translated
    // code, against the reference interpreter on the host.
    use fc_aot::engines::run_conformance;
    let values: [u64; 10] = [
        0,
        1,
        3,
        0x7fff_ffff,
        0x8000_0000,
        0xffff_ffff,
        0x1_0000_0001,
        0x1234_5678_9abc_def0,
        0x8000_0000_0000_0000,
        u64::MAX,
    ];
    let ops = ["mul", "div", "mod", "sdiv", "smod", "mul32", "div32", "mod32", "sdiv32", "smod32"];
    let mut programs = Vec::new();
    for a in values {
        for b in values {
            for op in ops {
                programs.push(format!("lddw %r0, {a:#x}\nlddw %r1, {b:#x}\n{op} %r0, %r1\nexit"));
            }
        }
    }
    // One program per operation and operand pair (so a failure names them), on 4 threads.
    let checked = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for chunk in programs.chunks(programs.len().div_ceil(4)) {
            let checked = &checked;
            scope.spawn(move || {
                for text in chunk {
                    let program = fc_aot::asm::assemble(text).unwrap();
                    let want = run_conformance(EngineKind::Reference, Target::Host, &program, &[]);
                    let got = run_conformance(EngineKind::C, Target::Esp8266, &program, &[]);
                    assert_eq!(got, want, "{text}");
                    checked.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            });
        }
    });
    assert_eq!(checked.into_inner(), values.len() * values.len() * ops.len());
}
