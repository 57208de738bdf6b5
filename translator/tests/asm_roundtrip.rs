//! The assembler, disassembler and `.data` reader against the whole bpf_conformance
//! snapshot, plus property tests of the assemble/disassemble round trip.

use std::fs;
use std::path::{Path, PathBuf};

use fc_aot::text::asm::{assemble, CALLX_OPCODE};
use fc_aot::conformance::data::TestCase;
use fc_aot::text::disasm::{disassemble, insn_text};
use fc_runtime::insn::{
    decode, AluOp, AtomicOp, ByteOrder, Cond, DecodeErrorKind, Decoder, Op, Operand, RawSlot, Reg, Size, SwapWidth,
    SxSize, Width,
};
use proptest::prelude::*;

fn conformance_dir(sub: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../conformance/bpf_conformance").join(sub)
}

/// Every `*.data` file of a folder, sorted; panics when the folder is missing or too small.
fn data_files(sub: &str, at_least: usize) -> Vec<(String, String)> {
    let dir = conformance_dir(sub);
    let entries = fs::read_dir(&dir).unwrap_or_else(|e| panic!("conformance folder {} missing: {e}", dir.display()));
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("readable directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "data"))
        .collect();
    files.sort();
    assert!(
        files.len() >= at_least,
        "{} holds only {} .data files (expected >= {at_least})",
        dir.display(),
        files.len()
    );
    files
        .into_iter()
        .map(|p| {
            let bytes = fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, String::from_utf8_lossy(&bytes).into_owned())
        })
        .collect()
}

fn is_callx(program: &[u8]) -> bool {
    program.chunks(8).any(|s| s[0] == CALLX_OPCODE)
}

#[test]
fn every_conformance_test_round_trips() {
    let files = data_files("tests", 300);
    let (mut checked, mut callx_skipped, mut with_raw) = (0, 0, 0);
    for (name, text) in &files {
        let case = TestCase::parse(name, text).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(case.asm.is_some(), "{name}: every file of tests/ has an asm section");
        assert!(case.result.is_some() && case.error.is_none(), "{name}: tests/ files expect a result");
        let program = case.program().unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!program.is_empty() && program.len().is_multiple_of(8), "{name}");
        if let Some(raw) = &case.raw {
            with_raw += 1;
            let assembled = assemble(case.asm.as_deref().unwrap()).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(&assembled, raw, "{name}: the asm section must assemble to the raw section");
        }
        let text = match disassemble(&program) {
            Ok(text) => text,
            Err(e) => {
                assert!(is_callx(&program), "{name}: does not decode: {e}");
                callx_skipped += 1;
                continue;
            }
        };
        let again = assemble(&text).unwrap_or_else(|e| panic!("{name}: disassembly does not assemble: {e}\n{text}"));
        assert_eq!(again, program, "{name}: disassemble -> assemble changed the bytes\n{text}");
        assert_eq!(disassemble(&again).unwrap(), text, "{name}");
        checked += 1;
    }
    assert_eq!(callx_skipped, 1, "exactly one program (callx.data) uses callx");
    assert_eq!(with_raw, 1, "only lddw.data has both asm and raw");
    assert_eq!(checked + callx_skipped, files.len());
}

#[test]
fn negative_files_fail_where_they_should() {
    let files = data_files("negative", 50);
    let (mut invalid, mut unused) = (0, 0);
    for (name, text) in &files {
        if name == "invalid_unknown_directive.data" {
            assert!(TestCase::parse(name, text).is_err(), "{name} must be rejected by the reader");
            invalid += 1;
        } else if name.starts_with("invalid_") {
            let case = TestCase::parse(name, text).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(case.raw.is_none(), "{name}");
            let asm = case.asm.as_deref().unwrap_or_else(|| panic!("{name}: no asm"));
            let err = assemble(asm).expect_err(name);
            let why = match name.as_str() {
                "invalid_imm32_dec_range.data" | "invalid_imm32_hex_range.data" => "out of 32-bit range",
                "invalid_label.data" => "unknown label",
                "invalid_lock.data" | "invalid_lock2.data" | "invalid_operand_count.data" => "wrong number of operands",
                "invalid_mnemonic.data" => "unknown mnemonic",
                "invalid_offset.data" => "malformed memory operand",
                "invalid_offset_range.data" => "out of 16-bit range",
                "invalid_register.data" => "invalid register",
                other => panic!("new negative file {other}: decide what it must fail with"),
            };
            assert!(err.message.contains(why), "{name}: {err}");
            assert!(err.line >= 1, "{name}: {err}");
            assert!(case.program().is_err(), "{name}");
            invalid += 1;
        } else if name.starts_with("unused-") {
            let case = TestCase::parse(name, text).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(case.error.as_deref(), Some(""), "{name}: empty error section");
            let program = case.program().unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(
                program.len() >= 16 && program.len().is_multiple_of(8),
                "{name}: byte form read as {} bytes",
                program.len()
            );
            let bad = Decoder::new(&program).find_map(Result::err);
            let bad = bad.unwrap_or_else(|| panic!("{name}: every slot decodes, but a reserved field is set"));
            assert!(matches!(bad.kind, DecodeErrorKind::ReservedNotZero { .. }), "{name}: {bad}");
            assert!(disassemble(&program).is_err(), "{name}");
            unused += 1;
        } else {
            // empty, empty_instructions, error, incorrect_return_value_high_bits: readable.
            let case = TestCase::parse(name, text).unwrap_or_else(|e| panic!("{name}: {e}"));
            if case.asm.is_some() {
                let program = case.program().unwrap_or_else(|e| panic!("{name}: {e}"));
                assert_eq!(assemble(&disassemble(&program).unwrap()).unwrap(), program, "{name}");
            } else {
                assert!(case.program().is_err(), "{name}: no program");
            }
        }
    }
    assert_eq!(invalid, 11, "invalid_* files");
    assert_eq!(unused, 45, "unused-* files");
}

// ---- property tests -------------------------------------------------------------------

fn reg() -> impl Strategy<Value = Reg> {
    (0u8..=10).prop_map(|n| Reg::new(n).unwrap())
}
fn width() -> impl Strategy<Value = Width> {
    prop_oneof![Just(Width::W32), Just(Width::W64)]
}
fn pick<T: Copy + std::fmt::Debug + 'static>(all: &'static [T]) -> impl Strategy<Value = T> {
    (0..all.len()).prop_map(move |i| all[i])
}
fn imm32() -> impl Strategy<Value = i32> {
    prop_oneof![any::<i32>(), -64i32..64, Just(i32::MIN), Just(i32::MAX)]
}
fn off16() -> impl Strategy<Value = i16> {
    prop_oneof![any::<i16>(), -64i16..64, Just(i16::MIN), Just(i16::MAX)]
}
fn operand() -> impl Strategy<Value = Operand> {
    prop_oneof![reg().prop_map(Operand::Reg), imm32().prop_map(Operand::Imm)]
}

static SX: [SxSize; 3] = [SxSize::B, SxSize::H, SxSize::W];
static ORDERS: [ByteOrder; 3] = [ByteOrder::ToLe, ByteOrder::ToBe, ByteOrder::Swap];
static SWAPS: [SwapWidth; 3] = [SwapWidth::W16, SwapWidth::W32, SwapWidth::W64];

/// Any `Op` built from the enums (a few, like `movsx3232`, do not decode and are filtered out).
fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (width(), pick(&AluOp::ALL), reg(), operand()).prop_map(|(width, op, dst, src)| Op::Alu {
            width,
            op,
            dst,
            src
        }),
        (width(), reg(), reg(), pick(&SX)).prop_map(|(width, dst, src, from)| Op::MovSx { width, dst, src, from }),
        (width(), reg()).prop_map(|(width, dst)| Op::Neg { width, dst }),
        (pick(&ORDERS), reg(), pick(&SWAPS)).prop_map(|(order, dst, width)| Op::End { order, dst, width }),
        (reg(), any::<u64>()).prop_map(|(dst, imm)| Op::Lddw { dst, imm }),
        (reg(), any::<u64>()).prop_map(|(dst, offset)| Op::LddwData { dst, offset }),
        (reg(), any::<u64>()).prop_map(|(dst, offset)| Op::LddwRodata { dst, offset }),
        (pick(&Size::ALL), reg(), reg(), off16()).prop_map(|(size, dst, src, off)| Op::Load { size, dst, src, off }),
        (pick(&SX), reg(), reg(), off16()).prop_map(|(size, dst, src, off)| Op::LoadSx { size, dst, src, off }),
        (pick(&Size::ALL), reg(), off16(), operand()).prop_map(|(size, dst, off, src)| Op::Store {
            size,
            dst,
            off,
            src
        }),
        (width(), pick(&AtomicOp::ALL), reg(), reg(), off16()).prop_map(|(width, op, dst, src, off)| Op::Atomic {
            width,
            op,
            dst,
            src,
            off
        }),
        off16().prop_map(|off| Op::Ja { off }),
        imm32().prop_map(|imm| Op::Gotol { imm }),
        (width(), pick(&Cond::ALL), reg(), operand(), off16()).prop_map(|(width, cond, dst, src, off)| Op::Jump {
            width,
            cond,
            dst,
            src,
            off
        }),
        any::<u32>().prop_map(|id| Op::CallHelper { id }),
        imm32().prop_map(|imm| Op::CallLocal { imm }),
        Just(Op::Exit),
    ]
    .prop_filter("decodes", |op| decode(op.encode().as_bytes(), 0).is_ok())
}

/// A random slot, biased towards field values that decode.
fn slot() -> impl Strategy<Value = [u8; 8]> {
    let small_reg = prop_oneof![0u8..=10, 0u8..16];
    let field_off = prop_oneof![Just(0i16), Just(1), Just(8), Just(16), Just(32), any::<i16>()];
    let field_imm =
        prop_oneof![Just(0i32), Just(16), Just(32), Just(64), Just(1), Just(0xe1), Just(0xf1), any::<i32>()];
    (any::<u8>(), small_reg.clone(), small_reg, field_off, field_imm)
        .prop_map(|(opcode, dst, src, off, imm)| RawSlot { opcode, dst, src, off, imm }.to_bytes())
}

const TOKENS: &[&str] = &[
    "mov",
    "mov32",
    "add64",
    "lddw",
    "ldxdw",
    "ldxsb",
    "stw",
    "stxb",
    "lock",
    "fetch",
    "xchg",
    "cmpxchg32",
    "add32",
    "ja",
    "ja32",
    "jeq",
    "jsle32",
    "call",
    "local",
    "exit",
    "neg",
    "be16",
    "bswap64",
    "swap32",
    "movsx832",
    "movsx3232",
    "%r0",
    "%r10",
    "%r11",
    "%r",
    "[%r1+4]",
    "[%r10-8]",
    "[%r1]",
    "[%r1",
    "]",
    "[",
    ",",
    ",,",
    "+1",
    "-1",
    "+0x10",
    "-32769",
    "0x100000000",
    "2147483648",
    "-2147483648",
    "0xffffffff",
    "18446744073709551615",
    ".data+0x8",
    ".rodata",
    "L1",
    "L1:",
    "exit:",
    ":",
    "#",
    "é",
    "\u{7f}",
    "\t",
    "\n",
    " ",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn random_ops_round_trip(ops in prop::collection::vec(op(), 1..24)) {
        let bytes: Vec<u8> = ops.iter().flat_map(|op| op.encode().as_bytes().to_vec()).collect();
        let text = disassemble(&bytes).unwrap();
        prop_assert_eq!(assemble(&text).unwrap(), bytes.clone());
        for op in &ops {
            prop_assert_eq!(assemble(&insn_text(op)).unwrap(), op.encode().as_bytes().to_vec());
        }
    }

    #[test]
    fn random_decodable_slots_round_trip(a in slot(), b in slot()) {
        let mut text = a.to_vec();
        text.extend_from_slice(&b);
        for len in [8, 16] {
            let t = &text[..len];
            if let Ok(asm) = disassemble(t) {
                prop_assert_eq!(assemble(&asm).unwrap(), t.to_vec(), "{}", asm);
            }
        }
    }

    #[test]
    fn random_strings_never_panic(s in ".{0,200}") {
        let _ = assemble(&s);
        let _ = TestCase::parse("fuzz", &s).map(|t| t.program());
    }

    #[test]
    fn random_token_soup_never_panics(idx in prop::collection::vec(0..TOKENS.len(), 0..40)) {
        let src: String = idx.iter().map(|&i| TOKENS[i]).collect::<Vec<_>>().join(" ");
        if let Ok(bytes) = assemble(&src) {
            // Whatever assembles decodes (callx aside) and survives the round trip.
            if let Ok(text) = disassemble(&bytes) {
                prop_assert_eq!(assemble(&text).unwrap(), bytes);
            } else {
                prop_assert!(bytes.chunks(8).any(|s| s[0] == CALLX_OPCODE), "{}", src);
            }
        }
        let data = format!("-- asm\n{src}\n-- result\n0x0\n");
        let _ = TestCase::parse("soup", &data).map(|t| t.program());
    }
}
