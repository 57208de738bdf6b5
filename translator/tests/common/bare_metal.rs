//! The tests every bare-metal SoC target shares (ESP32-C3, RP2040, ESP8266 and the windowed
//! ESP32s: translator/tests/esp32c3.rs, rp2040.rs, esp8266.rs, esp32.rs), parameterised by the SoC: the
//! runtime there with each of its engines (`c`: translated C the runtime calls; `interp`,
//! `reference`). Each test file keeps its own `#[test]` functions as short calls of these.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::PathBuf;
use std::process::Command;

use fc_aot::helpers::HelperSet;
use fc_aot::backend::symbols::Symbols;
use fc_aot::backend::Input;
use fc_aot::target::bare_metal::Placement;
use fc_aot::target::harness::{table_functions, Harness, HarnessError, Request, RuntimeEngine};
use fc_aot::target::{Line, Run};
use fc_runtime::helpers::Profile;
use fc_aot::conformance::{run_dir, Executor, Summary, Verdict};
use fc_aot::target::{EngineKind, Target};
use fc_runtime::format::{Container, LayoutChoice};
use fc_runtime::stores::StoreContext;
use fc_runtime::VirtualMachine;

/// One SoC under test: its runner's description, its `Target` and its `nm`.
pub struct Soc {
    pub soc: &'static fc_aot::target::bare_metal::Soc,
    pub target: Target,
    pub nm: &'static str,
}

/// The workspace root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

impl Soc {
    /// The default placement (flash) and the one in RAM (IRAM / SRAM).
    pub fn flash(&self) -> Placement {
        self.soc.flash()
    }
    pub fn ram(&self) -> Placement {
        self.soc.placements[1]
    }

    /// `runs` runs of `container` on the SoC's runtime with `engine`, translated code
    /// placed per `placement`, the way `fc-aot run` asks (profile sming, 512-byte frames).
    pub fn run_on(&self, engine: RuntimeEngine, container: &Container, ctx: &[u8], budget: Option<u32>, runs: u32, placement: Placement) -> Result<Vec<Run>, HarnessError> {
        let helpers = HelperSet::profile(Profile::Sming);
        let request = Request { ctx, budget, runs, frame: 512, function: None, helpers: &helpers, timeout: None };
        self.soc.run_container(engine, container, &request, placement)
    }

    /// [`run_on`](Self::run_on) with the `c` engine.
    pub fn run_container(&self, container: &Container, ctx: &[u8], budget: Option<u32>, runs: u32, placement: Placement) -> Result<Vec<Run>, HarnessError> {
        self.run_on(RuntimeEngine::Native, container, ctx, budget, runs, placement)
    }

    /// The whole conformance suite through `run_dir` on every engine of the SoC: 312
    /// passed, callx.data skipped.
    pub fn the_conformance_suite_passes(&self) {
        self.the_conformance_suite_passes_on(&[EngineKind::C, EngineKind::Interp, EngineKind::Reference]);
    }

    /// The whole conformance suite on `engines` of the SoC.
    pub fn the_conformance_suite_passes_on(&self, engines: &[EngineKind]) {
        for &kind in engines {
            let mut failures = Vec::new();
            let mut skipped = Vec::new();
            let summary = run_dir(&root().join("conformance/bpf_conformance/tests"), &Executor::Engine(kind, self.target, Vec::new()), |name, v| {
                match v {
                    Verdict::Fail(why) => failures.push(format!("{name}: {why}")),
                    Verdict::Skip(_) => skipped.push(name.to_string()),
                    Verdict::Pass => {}
                }
            })
            .unwrap();
            let engine = kind.name();
            assert!(failures.is_empty(), "{engine}: {failures:#?}");
            assert_eq!(summary, Summary { passed: 312, failed: 0, skipped: 1 }, "{engine}");
            assert_eq!(skipped, ["callx.data"], "{engine}");
        }
    }

    /// A few files through the command line: the target's clap name and the summary line.
    pub fn the_cli_runs_the_suite(&self) {
        let dir = std::env::temp_dir().join(format!("fc-aot-{}-cli-{}", self.soc.name, std::process::id()));
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
            .args(["conformance", dir.to_str().unwrap(), "--engine", "c", "--target", self.soc.name])
            .output()
            .unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let skipped = usize::from(suite.join("callx.data").exists());
        let want = format!("{} passed, 0 failed, {skipped} skipped", count - skipped);
        assert_eq!(stdout.lines().last(), Some(want.as_str()), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    }

    /// Every sample container, built with `fc-aot build`.
    pub fn built(&self) -> BTreeMap<String, Vec<u8>> {
        built(self.soc.name)
    }

    /// Every sample, two runs on the SoC against the reference interpreter, and a budget
    /// too small where the sample loops (translated code in RAM this time).
    pub fn every_sample_container_matches_the_reference(&self) {
        let contexts = demo_contexts();
        let bins = self.built();
        let soc = self.soc.name;
        assert!(bins.len() >= 12, "samples built: {:?}", bins.keys());
        let mut checked = Vec::new();
        for (name, bin) in &bins {
            let (ctx, budget) = contexts.get(name).cloned().unwrap_or_else(|| (Vec::new(), 200));
            let container = Container::parse(bin, LayoutChoice::Auto).unwrap();
            // Two runs in one process: data, bss and the stores carry over, as on a loaded VM.
            let want = reference(bin, &ctx, budget, 2);
            let got = self.run_container(&container, &ctx, Some(budget), 2, self.flash()).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(got, want, "{name}: {soc} (left) against the reference (right)");
            // The runtime's interpreters there, on the same container.
            for engine in [RuntimeEngine::Interp, RuntimeEngine::Reference] {
                let got = self.run_on(engine, &container, &ctx, Some(budget), 2, self.flash()).unwrap_or_else(|e| panic!("{name} {engine:?}: {e}"));
                assert_eq!(got, want, "{name}: {engine:?} on {soc} (left) against the host's reference (right)");
            }
            // One budget too small where the sample loops: the same error at the same slot
            // (translated code in RAM this time).
            if budget > 200 {
                let want = reference(bin, &ctx, budget / 8, 1);
                assert_ne!(want[0].error, 0, "{name}: budget {} should not be enough", budget / 8);
                let got = self.run_container(&container, &ctx, Some(budget / 8), 1, self.ram()).unwrap_or_else(|e| panic!("{name}: {e}"));
                assert_eq!(got, want, "{name} with budget {}: {soc} (left) against the reference (right)", budget / 8);
            }
            checked.push(format!(
                "{name} (r0 {:?}, {} printf lines, {} store entries)",
                got[1].r0,
                got[1].printf().count(),
                got[1].globals.len() + got[1].locals.len()
            ));
        }
        for name in contexts.keys() {
            assert!(bins.contains_key(name), "containers/samples.txt has a line for {name}, which was not built");
        }
        eprintln!("checked on {soc}:\n  {}", checked.join("\n  "));
    }

    /// crc32 (code, and a table in rodata) linked with the runtime harness with each
    /// placement: its entry and `_fc_containers_text_start` within `placements`' range,
    /// the harness's `main` and its buffers of the container (which the runtime reads the
    /// table from) and the context (`container`, `memory`) where `map` says; `more` checks
    /// what else the SoC wants of the symbols. Then the runtime runs it and prints the CRC-32.
    pub fn translated_code_goes_where_fc_container_ld_puts_it(&self, placements: [(Placement, Range<u32>); 2], map: &Map, more: impl Fn(&BTreeMap<String, u32>)) {
        let bins = self.built();
        let bin = &bins["crc32"];
        let container = Container::parse(bin, LayoutChoice::Auto).unwrap();
        let program = HelperSet::profile(Profile::Sming).verify(&container).unwrap();
        let functions = table_functions(&container, &program);
        let input = Input::of_container("prog", &container, &program, &functions);
        let entry = Symbols::new("prog").entry(&functions[0].0);
        let args = [fc_aot::text::hex::encode(bin), (0..1024).map(|i| format!("{:02x}", (i * 31 + 7) & 255)).collect()];
        for (placement, range) in placements {
            let dir = std::env::temp_dir().join(format!("fc-aot-{}-placement-{}-{}", self.soc.name, std::process::id(), placement.name));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            let exe = self.soc.placed(RuntimeEngine::Native, placement).link(&input, &dir).unwrap();
            let nm = Command::new(self.nm).arg(&exe).output().unwrap();
            let symbols: BTreeMap<String, u32> = String::from_utf8_lossy(&nm.stdout)
                .lines()
                .filter_map(|l| {
                    let mut f = l.split_whitespace();
                    let addr = u32::from_str_radix(f.next()?, 16).ok()?;
                    let _kind = f.next()?;
                    Some((f.next()?.to_string(), addr))
                })
                .collect();
            for symbol in [entry.as_str(), "_fc_containers_text_start"] {
                let addr = symbols[symbol];
                assert!(range.contains(&addr), "{}: {symbol} at {addr:#x}", placement.name);
            }
            assert!(symbols["_fc_containers_text_end"] > symbols["_fc_containers_text_start"]);
            more(&symbols);
            assert!(map.main.contains(&symbols["main"]), "main at {:#x}", symbols["main"]);
            for buffer in ["container", "memory"] {
                assert!(map.memory.contains(&symbols[buffer]), "{buffer} at {:#x}", symbols[buffer]);
            }
            let (ok, out) = self.soc.run(&exe, &args).unwrap();
            assert!(ok, "{out}");
            assert_eq!(out.trim(), "0x7c321b5d", "{}: CRC-32 of the demo context", placement.name);
            let _ = std::fs::remove_dir_all(&dir);
        }
    }

    /// Faults stop with the error and the slot; the verifier's refusals never reach the compiler.
    pub fn faults_stop_with_the_error_and_the_slot(&self) {
        use fc_aot::target::{run_conformance, Execution};
        let run = |text: &str, mem: &[u8]| run_conformance(EngineKind::C, self.target, &[], &fc_aot::text::asm::assemble(text).unwrap(), mem);
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

    /// The budget (docs/budget.md) on the SoC: with `-boff` an endless loop is still
    /// running after a second and a loop of 10^6 taken jumps finishes; memcpy and printf
    /// pay for what they move or print, stopping where the reference stops.
    pub fn the_budget_bounds_helpers_and_off_never_runs_out(&self) {
        use std::time::Duration;
        let container = |text: &str| {
            let image = fc_runtime::format::Image { text: fc_aot::text::asm::assemble(text).unwrap(), functions: vec![("main".to_string(), 0)], ..Default::default() };
            fc_runtime::format::write(&image, fc_runtime::format::Layout::Seed).unwrap()
        };
        let helpers = HelperSet::profile(Profile::Sming);
        let run = |bin: &[u8], budget: Option<u32>, timeout: Option<Duration>| {
            let container = Container::parse(bin, LayoutChoice::Auto).unwrap();
            let request = Request { ctx: &[], budget, runs: 1, frame: 512, function: None, helpers: &helpers, timeout };
            self.soc.run_container(RuntimeEngine::Native, &container, &request, self.flash())
        };
        let endless = container("mov %r0, 0\nL: ja L\nexit");
        let second = Some(Duration::from_secs(1));
        assert!(matches!(run(&endless, None, second), Err(HarnessError::TimedOut(_))), "-boff: still looping after 1 s");
        let got = run(&endless, Some(1000), None).unwrap();
        assert_eq!((got[0].error, got[0].error_pc), (-8, Some(1)));
        let million = container("mov %r0, 0\nL: add %r0, 1\njlt %r0, 1000000, L\nexit");
        assert_eq!(run(&million, None, None).unwrap()[0].r0, Some(1_000_000));

        // Ten copies of 16 KiB (3 units each) inside a 32 KiB context, then a printf of
        // the copied 16 KiB less one byte (its NUL) and a newline: 3 units more, 33 in all.
        let mut src = String::from("mov %r7, %r1\nmov %r6, 0\n");
        for _ in 0..10 {
            src += "mov %r1, %r7\nmov %r2, %r7\nadd %r2, 16384\nmov %r3, 16384\ncall 2\nadd %r6, 1\n";
        }
        src += "stb [%r7+16383], 0\nlddw %r1, .rodata+0\nmov %r2, %r7\ncall 1\nmov %r0, %r6\nexit";
        let image = fc_runtime::format::Image {
            data: Vec::new(),
            bss_len: 0,
            rodata: b"%s\n\0".to_vec(),
            text: fc_aot::text::asm::assemble(&src).unwrap(),
            functions: vec![("main".to_string(), 0)],
        };
        let bin = fc_runtime::format::write(&image, fc_runtime::format::Layout::Seed).unwrap();
        let container = Container::parse(&bin, LayoutChoice::Auto).unwrap();
        let ctx: Vec<u8> = (0..32 * 1024).map(|i| b'a' + (i % 26) as u8).collect();
        for budget in [0, 2, 3, 29, 30, 32, 33] {
            let want = reference(&bin, &ctx, budget, 1);
            let got = self.run_container(&container, &ctx, Some(budget), 1, self.flash()).unwrap();
            assert_eq!(got, want, "budget {budget}: {} (left) against the reference (right)", self.soc.name);
            let stopped = if budget < 33 { Some(-8) } else { None };
            assert_eq!(want[0].error_pc.map(|_| want[0].error), stopped, "budget {budget}");
        }
        let got = self.run_container(&container, &ctx, None, 1, self.flash()).unwrap();
        assert_eq!((got[0].r0, got[0].printf().count()), (Some(10), 1), "-boff charges nothing");
    }

    /// The 64-bit multiply and the divisions of every width (on the Xtensa SoCs through
    /// targets/esp8266/libgcc_extra.c: __muldi3, __udivdi3, __umoddi3, __divsi3, ...) through
    /// translated code, against the reference interpreter on the host.
    pub fn the_64_bit_and_division_helpers_agree_with_the_reference(&self) {
        use fc_aot::target::run_conformance;
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
                        let program = fc_aot::text::asm::assemble(text).unwrap();
                        let want = run_conformance(EngineKind::Reference, Target::Host, &[], &program, &[]);
                        let got = run_conformance(EngineKind::C, self.target, &[], &program, &[]);
                        assert_eq!(got, want, "{text}");
                        checked.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                });
            }
        });
        assert_eq!(checked.into_inner(), values.len() * values.len() * ops.len());
    }
}

/// Where the harness's `main` and its buffers of the container and the context go.
pub struct Map {
    pub main: Range<u32>,
    pub memory: Range<u32>,
}

/// `NAME -> (context, budget)` exactly as scripts/demo runs the samples (budget 200 for a
/// sample without a line in `containers/samples.txt`).
pub fn demo_contexts() -> BTreeMap<String, (Vec<u8>, u32)> {
    let table = super::sample_table().into_iter();
    table.map(|(name, (hex, budget))| (name, (fc_aot::text::hex::decode(&hex).unwrap(), budget))).collect()
}

/// Every sample container, built with `fc-aot build` (into a folder named after `soc`).
pub fn built(soc: &str) -> BTreeMap<String, Vec<u8>> {
    // A folder per call: tests of one process build at once, and each removes its folder.
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let out = std::env::temp_dir().join(format!("fc-aot-{soc}-containers-{}-{call}", std::process::id()));
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
pub fn reference(bin: &[u8], ctx: &[u8], budget: u32, runs: u32) -> Vec<Run> {
    let stores = StoreContext::new();
    let lines = std::cell::RefCell::new(Vec::<Line>::new());
    let mut vm = VirtualMachine::new(&stores);
    vm.set_engine(fc_aot::target::engine(EngineKind::Reference, Target::Host).unwrap());
    vm.environment().set_output(|line: &[u8]| {
        let text = String::from_utf8_lossy(line);
        lines.borrow_mut().push(Line::Printf(text.strip_suffix('\n').unwrap_or(&text).to_string()));
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
            lines: std::mem::take(&mut *lines.borrow_mut()),
            ctx: c,
            data: vm.data().to_vec(),
            globals: vm.globals().entries().to_vec(),
            locals: vm.locals().entries().to_vec(),
        });
    }
    out
}
