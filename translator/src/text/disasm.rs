//! Disassembler: instruction bytes -> the assembly syntax [`crate::text::asm::assemble`] reads.
//!
//! Decoding goes through `fc_runtime::insn` ([`Decoder`]); this module only renders [`Op`]s.
//! Jump and local-call targets are written as signed relative slot offsets (`+3`, `-2`), so
//! `assemble(&disassemble(bytes)?) == bytes` for every byte sequence that decodes.

use fc_runtime::insn::{decode, slot_count, AtomicOp, DecodeError, Decoder, Op, Operand, Reg, Width, SLOT};

/// One line per instruction (each ending in `\n`). Fails on the first slot that does not
/// decode, and on a trailing partial slot (reported by [`decode`] as at that slot index).
pub fn disassemble(text: &[u8]) -> Result<String, DecodeError> {
    let mut out = String::new();
    for insn in Decoder::new(text) {
        out.push_str(&insn_text(&insn?.op));
        out.push('\n');
    }
    if !text.len().is_multiple_of(SLOT) {
        // `Decoder` ignores a trailing partial slot; `decode` reports it.
        decode(text, slot_count(text))?;
    }
    Ok(out)
}

/// The assembly text of one instruction, e.g. `stxdw [%r10-8], %r1` or `jeq32 %r1, 5, +2`.
pub fn insn_text(op: &Op) -> String {
    match *op {
        Op::Alu { width, op, dst, src } => format!("{}{} {}, {}", op.mnemonic(), w(width), r(dst), operand(src)),
        Op::MovSx { width, dst, src, from } => {
            let to = match width {
                Width::W32 => 32,
                Width::W64 => 64,
            };
            format!("movsx{}{to} {}, {}", from.bits(), r(dst), r(src))
        }
        Op::Neg { width, dst } => format!("neg{} {}", w(width), r(dst)),
        Op::End { order, dst, width } => format!("{}{} {}", order.mnemonic(), width.bits(), r(dst)),
        Op::Lddw { dst, imm } => format!("lddw {}, 0x{imm:x}", r(dst)),
        Op::LddwData { dst, offset } => format!("lddw {}, .data+0x{offset:x}", r(dst)),
        Op::LddwRodata { dst, offset } => format!("lddw {}, .rodata+0x{offset:x}", r(dst)),
        Op::Load { size, dst, src, off } => format!("ldx{} {}, {}", size.suffix(), r(dst), mem(src, off)),
        Op::LoadSx { size, dst, src, off } => format!("ldxs{} {}, {}", size.size().suffix(), r(dst), mem(src, off)),
        Op::Store { size, dst, off, src: Operand::Imm(imm) } => format!("st{} {}, {imm}", size.suffix(), mem(dst, off)),
        Op::Store { size, dst, off, src: Operand::Reg(src) } => {
            format!("stx{} {}, {}", size.suffix(), mem(dst, off), r(src))
        }
        Op::Atomic { width, op, dst, src, off } => {
            // `fetch` is written only where a non-fetching form of the same name exists.
            let explicit_fetch =
                op.fetches() && AtomicOp::ALL.iter().any(|a| a.mnemonic() == op.mnemonic() && !a.fetches());
            let fetch = if explicit_fetch { "fetch " } else { "" };
            format!("lock {fetch}{}{} {}, {}", op.mnemonic(), w(width), mem(dst, off), r(src))
        }
        Op::Ja { off } => format!("ja {off:+}"),
        Op::Gotol { imm } => format!("ja32 {imm:+}"),
        Op::Jump { width, cond, dst, src, off } => {
            format!("{}{} {}, {}, {off:+}", cond.mnemonic(), w(width), r(dst), operand(src))
        }
        Op::CallHelper { id } if id <= i32::MAX as u32 => format!("call {id}"),
        Op::CallHelper { id } => format!("call 0x{id:x}"),
        Op::CallLocal { imm } => format!("call local {imm:+}"),
        Op::Exit => "exit".to_string(),
    }
}

fn w(width: Width) -> &'static str {
    match width {
        Width::W32 => "32",
        Width::W64 => "",
    }
}

fn r(reg: Reg) -> String {
    format!("%r{}", reg.num())
}

fn operand(src: Operand) -> String {
    match src {
        Operand::Reg(reg) => r(reg),
        Operand::Imm(imm) => imm.to_string(),
    }
}

fn mem(base: Reg, off: i16) -> String {
    if off == 0 {
        format!("[%r{}]", base.num())
    } else {
        format!("[%r{}{off:+}]", base.num())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::asm::assemble;
    use fc_runtime::insn::{DecodeErrorKind, RawSlot};

    fn text(words: &[u64]) -> Vec<u8> {
        words.iter().flat_map(|w| w.to_le_bytes()).collect()
    }

    #[test]
    fn renders_known_instructions() {
        let cases: [(u64, &str); 14] = [
            (0x0000_0000_0000_1079, "ldxdw %r0, [%r1]"),
            (0x0000_0001_0000_0007, "add %r0, 1"),
            (0x95, "exit"),
            (0x0000_0000_fff8_1a7b, "stxdw [%r10-8], %r1"),
            (0x0000_0005_0000_00b4, "mov32 %r0, 5"),
            (0x0000_0000_0003_201d, "jeq %r0, %r2, +3"),
            (0x0000_0007_fffe_0026, "jgt32 %r0, 7, -2"),
            (0x0000_0010_0000_0085, "call 16"),
            (0x8000_0000_0000_0085, "call 0x80000000"),
            (0x0000_0020_0000_01dc, "be32 %r1"),
            (0x0000_0000_0010_21bf, "movsx1664 %r1, %r2"),
            (0x0000_0000_0001_213f, "sdiv %r1, %r2"),
            (0x0000_0001_fff8_1adb, "lock fetch add [%r10-8], %r1"),
            (0x0000_00e1_fff8_1adb, "lock xchg [%r10-8], %r1"),
        ];
        for (word, expected) in cases {
            assert_eq!(disassemble(&text(&[word])).unwrap(), format!("{expected}\n"));
        }
        let lddw = text(&[0x5566778800000018, 0x1122334400000000, 0x95]);
        assert_eq!(disassemble(&lddw).unwrap(), "lddw %r0, 0x1122334455667788\nexit\n");
    }

    #[test]
    fn errors_are_the_decoders() {
        let e = disassemble(&text(&[0x95, 0x8d])).unwrap_err();
        assert_eq!((e.pc, e.kind), (1, DecodeErrorKind::UnknownOpcode(0x8d)));
        // A trailing partial slot is not silently dropped.
        let mut t = text(&[0x95]);
        t.push(0);
        assert_eq!(disassemble(&t).unwrap_err().pc, 1);
        assert_eq!(disassemble(&[]).unwrap(), "");
    }

    #[test]
    fn every_opcode_round_trips_through_the_assembler() {
        // All 256 opcodes x a spread of field values, as in insn.rs: whatever decodes
        // disassembles to text that assembles back to the same bytes.
        let regs = [0x00u8, 0x21, 0x12, 0xa3, 0x01, 0x10, 0xaa];
        let offs = [0i16, 1, -1, 8, 16, 32, i16::MIN, i16::MAX];
        let imms = [0i32, 1, -1, 16, 32, 64, 0xe1, 0xf1, 0x41, i32::MIN, i32::MAX];
        let mut decoded = 0;
        for opcode in 0..=255u8 {
            for &regs in &regs {
                for &off in &offs {
                    for &imm in &imms {
                        let s = RawSlot { opcode, dst: regs & 0xf, src: regs >> 4, off, imm }.to_bytes();
                        let mut t = s.to_vec();
                        if opcode & 0x07 == 0 {
                            t.extend_from_slice(&RawSlot { opcode: 0, dst: 0, src: 0, off: 0, imm: -7 }.to_bytes());
                        }
                        if let Ok(asm) = disassemble(&t) {
                            decoded += 1;
                            assert_eq!(assemble(&asm).unwrap_or_else(|e| panic!("{asm}: {e}")), t, "{asm}");
                        }
                    }
                }
            }
        }
        assert!(decoded > 5000, "{decoded}");
    }
}
