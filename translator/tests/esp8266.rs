//! The `c` engine on `--target esp8266`: the emitted C cross-compiled for the Xtensa
//! LX106, call0 ABI (xtensa-lx106-elf-gcc -mlongcalls) with the bare-metal start-up and
//! 64-bit helpers of targets/esp8266/ and the harness of targets/esp8266/, run under
//! qemu-xtensa -cpu lx106. The tests shared with the other SoCs are in common/bare_metal.rs.
//!
//! Needs `gcc-xtensa-lx106`, `binutils-xtensa-lx106`, `qemu-user` and clang (to build the samples).

use fc_aot::target::Target;
use fc_aot::target::c_compiler::Toolchain;
use fc_aot::target::socs;

mod common;

use common::bare_metal::{Map, Soc};

const SOC: Soc = Soc { soc: &socs::ESP8266, target: Target::Esp8266, nm: "xtensa-lx106-elf-nm" };

#[test]
fn the_conformance_suite_passes_on_esp8266() {
    SOC.the_conformance_suite_passes();
}

#[test]
fn the_cli_runs_the_suite_on_esp8266() {
    SOC.the_cli_runs_the_suite();
}

#[test]
fn every_sample_container_matches_the_reference_on_esp8266() {
    SOC.every_sample_container_matches_the_reference();
}

#[test]
fn translated_code_goes_where_fc_container_ld_puts_it() {
    // The chip's map moved down by 0x1000_0000 (qemu-xtensa maps only the lower 1 GiB):
    // flash (.irom0.text) 0x3020_1010 up, IRAM 0x3010_0000 (32 KiB), DRAM 0x2FFE_8000 (80 KiB).
    // The harness stays in flash, the container and the context in the qemu-only RAM.
    let map = Map { main: 0x3020_1010..0x3030_0000, memory: 0x2FA0_0000..0x2FB0_0000 };
    SOC.translated_code_goes_where_fc_container_ld_puts_it([(SOC.flash(), 0x3020_1010..0x3030_0000), (SOC.ram(), 0x3010_0000..0x3010_8000)], &map, |_| {});
}

#[test]
fn faults_stop_with_the_error_and_the_slot() {
    SOC.faults_stop_with_the_error_and_the_slot();
}

#[test]
fn the_budget_bounds_helpers_and_off_never_runs_out() {
    SOC.the_budget_bounds_helpers_and_off_never_runs_out();
}

#[test]
fn the_64_bit_and_division_helpers_agree_with_the_reference() {
    SOC.the_64_bit_and_division_helpers_agree_with_the_reference();
}

/// On the chip, flash (where firmware keeps a container, as Sming's FSTR arrays) takes only
/// aligned 32-bit loads; a byte load raises LoadStoreError, which qemu-user does not model.
/// So the proof is a trace: the runtime loads a container from flash with fc_vm_load_flash
/// and runs it, under `qemu-xtensa -singlestep -d in_asm,cpu`, and every load instruction
/// executed is checked against the blob's addresses: only l32i may touch them (and some must,
/// or nothing was checked).
#[test]
fn the_runtime_reads_a_container_in_flash_only_with_aligned_word_loads() {
    use fc_aot::target::runtime_lib::Opt;
    use std::collections::HashMap;
    use std::process::Command;
    let soc = &socs::ESP8266;
    let bins = SOC.built();
    let (name, bin) = ("strings", &bins["strings"]);
    let ctx = common::bare_metal::demo_contexts()[name].0.clone();
    let dir = std::env::temp_dir().join(format!("fc-aot-esp8266-flash-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let root = common::bare_metal::root();
    for (file, text) in soc.sources.iter().chain(soc.linker_scripts) {
        std::fs::write(dir.join(file), text).unwrap();
    }
    // One byte past a word boundary, in flash (.irom0.text.*).
    let bytes: Vec<String> = bin.iter().map(|b| b.to_string()).collect();
    let blob = format!(
        "#include <stddef.h>\n#include <stdint.h>\n__attribute__((aligned(4), section(\".irom0.text.fc_blob\"))) const uint8_t fc_blob_storage[{}] = {{0, {}}};\nconst uint8_t *const fc_prog_blob = fc_blob_storage + 1;\nconst size_t fc_prog_blob_len = {};\n",
        bin.len() + 1,
        bytes.join(", "),
        bin.len()
    );
    std::fs::write(dir.join("blob.c"), blob).unwrap();
    let library = soc.library(Opt::Speed).unwrap();
    let exe = dir.join("prog");
    let gcc = |args: &[&str]| {
        let Toolchain::Gcc { gcc, .. } = soc.toolchain else { panic!("the ESP8266 is built by gcc") };
        let out = Command::new(gcc).args(soc.cflags).arg("-I").arg(root.join("targets/common")).arg("-I").arg(root.join("targets/include")).arg("-I").arg(&dir).args(args).current_dir(&dir).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    };
    gcc(&["-c", "start.S", "-o", "start.o"]);
    gcc(&["-fno-builtin", "-fno-tree-loop-distribute-patterns", "-c", "crt.c", "-o", "crt.o"]);
    gcc(&["-fno-builtin", "-c", "libgcc_extra.c", "-o", "extra.o"]);
    gcc(&["-DFC_HARNESS_FLASH", "-c", root.join("targets/common/runtime_harness.c").to_str().unwrap(), "-o", "harness.o"]);
    gcc(&["-c", "blob.c", "-o", "blob.o"]);
    gcc(&["-L", ".", "-T", "qemu-flash.ld", "-Wl,--gc-sections", "-o", "prog", "start.o", "crt.o", "extra.o", "harness.o", "blob.o", library.to_str().unwrap(), "-lgcc"]);
    // Where the blob is.
    let nm = Command::new("xtensa-lx106-elf-nm").arg(&exe).output().unwrap();
    let storage = String::from_utf8_lossy(&nm.stdout)
        .lines()
        .find_map(|l| l.strip_suffix(" fc_blob_storage").and_then(|a| u32::from_str_radix(&a[..8], 16).ok()))
        .expect("fc_blob_storage in the program");
    let blob_range = (storage + 1)..(storage + 1 + bin.len() as u32);
    assert!((0x3020_1010..0x3030_0000).contains(&blob_range.start), "the blob is in flash: {:#x}", blob_range.start);
    // The run, traced.
    let log = dir.join("trace.log");
    let out = Command::new("qemu-xtensa")
        .args(["-cpu", "lx106", "-singlestep", "-d", "in_asm,cpu,nochain", "-D"])
        .arg(&log)
        .arg(&exe)
        .arg(fc_aot::text::hex::encode(&ctx))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let want = common::bare_metal::reference(bin, &ctx, 1 << 24, 1);
    assert_eq!(stdout.lines().last(), Some(format!("{:#x}", want[0].r0.unwrap()).as_str()), "{stdout}");
    let trace = std::fs::read_to_string(&log).unwrap();
    // The instruction at each address (in_asm), then each executed one with the registers before it (cpu).
    let mut code: HashMap<u32, String> = HashMap::new();
    for line in trace.lines() {
        if let Some((addr, insn)) = line.strip_prefix("0x").and_then(|l| l.split_once(":")) {
            if let Ok(a) = u32::from_str_radix(addr.trim(), 16) {
                code.insert(a, insn.trim().to_string());
            }
        }
    }
    let (mut word_loads, mut executed, mut bad) = (0usize, 0usize, Vec::new());
    let mut regs = [0u32; 16];
    let mut pc = None;
    for line in trace.lines().chain(["PC=00000000"]) {
        if let Some(p) = line.strip_prefix("PC=") {
            // The instruction of the dump before this one ran with the registers gathered since.
            if let Some(at) = pc.take() {
                executed += 1;
                let insn: &str = code.get(&at).map(String::as_str).unwrap_or_default();
                let mut parts = insn.split(|c: char| c == ',' || c.is_whitespace()).filter(|s| !s.is_empty());
                let op = parts.next().unwrap_or_default();
                if matches!(op, "l8ui" | "l16ui" | "l16si" | "l32i" | "l32i.n" | "l32ai" | "l32e") {
                    let (_, base, off) = (parts.next(), parts.next().unwrap_or_default(), parts.next().unwrap_or("0"));
                    let base = base.trim_start_matches('a').parse::<usize>().map(|r| regs[r]).unwrap_or(0);
                    let addr = base.wrapping_add(off.parse::<i64>().unwrap_or(0) as u32);
                    if (blob_range.start & !3..blob_range.end).contains(&addr) {
                        if op == "l32i" || op == "l32i.n" {
                            word_loads += 1;
                            assert_eq!(addr % 4, 0, "{insn} at {at:#x}");
                        } else {
                            bad.push(format!("{at:#x}: {insn} reads {addr:#x}"));
                        }
                    }
                }
            }
            pc = u32::from_str_radix(p.trim(), 16).ok();
            continue;
        }
        // Register lines: " A00=30213f2e  A01=2fa0f390 ..."
        for field in line.split_whitespace() {
            if let Some((r, v)) = field.strip_prefix('A').and_then(|f| f.split_once('=')) {
                if let (Ok(r), Ok(v)) = (r.parse::<usize>(), u32::from_str_radix(v, 16)) {
                    if r < 16 {
                        regs[r] = v;
                    }
                }
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(bad.is_empty(), "loads of the flash blob other than aligned l32i:\n{}", bad.join("\n"));
    assert!(executed > 10_000, "the trace holds the load and the run: {executed} instructions");
    assert!(word_loads >= bin.len() / 4, "the copy read the blob with l32i: {word_loads} word loads for {} bytes", bin.len());
    eprintln!("{executed} instructions traced, {word_loads} aligned word loads of the {}-byte blob in flash, no other access", bin.len());
}
