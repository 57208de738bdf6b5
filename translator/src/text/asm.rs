//! Assembler for the conformance files' assembly syntax (uBPF / bpf_conformance style).
//!
//! Every instruction is parsed into an [`Op`] of `fc_runtime::insn` and encoded with
//! [`Op::encode`]; no opcode bits are spelled out here. Mnemonics are matched against the
//! `mnemonic()`s of the sub-enums (`AluOp::ALL`, `Cond::ALL`, `AtomicOp::ALL`, `Size::ALL`, ...).
//!
//! # Syntax
//!
//! One instruction per line; `#` starts a comment; blank lines are ignored; a line
//! `NAME:` defines a label (an instruction may follow on the same line). Operands are
//! separated by commas and/or blanks. Registers are `%r0`..`%r10`.
//!
//! | form | instruction |
//! |---|---|
//! | `add %rD, %rS` / `add %rD, IMM` (also `add64`), `add32 ...` | ALU64 / ALU (every [`AluOp`]: add sub mul div sdiv or and lsh rsh mod smod xor mov arsh) |
//! | `neg %rD`, `neg64 %rD`, `neg32 %rD` | negation |
//! | `movsx<from><to> %rD, %rS`: `movsx832` `movsx1632` `movsx864` `movsx1664` `movsx3264` | sign-extending move |
//! | `le16/32/64 %rD`, `be16/32/64 %rD`, `bswap16/32/64 %rD` (alias `swap16/32/64`) | byte order |
//! | `lddw %rD, IMM64` | 64-bit immediate (two slots) |
//! | `lddw %rD, .data+OFF` / `lddw %rD, .rodata+OFF` | Femto-Container `0xb8` / `0xd8` (this project's own spelling) |
//! | `ldxb/ldxh/ldxw/ldxdw %rD, [%rS+OFF]`, `ldxsb/ldxsh/ldxsw ...` | loads, sign-extending loads |
//! | `stb/sth/stw/stdw [%rD+OFF], IMM`, `stxb/stxh/stxw/stxdw [%rD+OFF], %rS` | stores |
//! | `lock [fetch] add/or/and/xor[32] [%rD+OFF], %rS`, `lock xchg[32] ...`, `lock cmpxchg[32] ...` | atomics (`fetch` is implied by xchg/cmpxchg and accepted there) |
//! | `ja TARGET`, `ja32 TARGET` | jump (16-bit offset) / `gotol` (32-bit `imm`) |
//! | `jeq %rD, %rS\|IMM, TARGET`, `jeq32 ...` (also `jeq64`; every [`Cond`]) | conditional jumps |
//! | `call N` (also `call helper N`), `call local TARGET` | helper call, bpf-to-bpf call (src 1, imm = target - pc - 1) |
//! | `call %rN` | callx, see [`CALLX_OPCODE`] |
//! | `exit` | return |
//!
//! Memory operands: `[%rN]`, `[%rN+OFF]`, `[%rN-OFF]` (blanks inside the brackets are allowed).
//! `TARGET` is a relative slot offset with a sign (`+3`, `-2`, `+0x10`) or a label. As in the
//! reference assembler, the name `exit` also refers to the first `exit` instruction when no
//! label `exit:` is defined.
//!
//! Numbers are decimal or `0x` hex, optionally signed. Ranges (anything else is an error):
//! - 32-bit immediates: a signed value in `i32` range, or an unsigned hex bit pattern up to
//!   `0xffffffff` (so `0xffffffff` is `-1`, while decimal `2147483648` is rejected);
//!   helper ids of `call N` follow the same rule (the field is read as `u32`);
//! - `lddw` immediates: `-2^63 ..= 2^64-1`, either base;
//! - memory offsets and 16-bit jump offsets: a signed value in `i16` range, either base;
//! - `ja32` / `call local` offsets: a signed value in `i32` range.
//!
//! Every assembled instruction is checked with [`decode`], so the output always decodes
//! (e.g. `movsx3232`, an undefined form, is an error), except `call %rN`.

use std::collections::HashMap;
use std::fmt;

use fc_runtime::insn::{
    decode, AluOp, AtomicOp, ByteOrder, Cond, Op, Operand, RawSlot, Reg, Size, SwapWidth, SxSize, Width,
};

/// Opcode emitted for `call %rN` (callx: `JMP | CALL | X`, register number in `dst`).
///
/// callx is not part of RFC 9669 and has no [`Op`] variant, so the assembler writes the
/// slot directly with [`RawSlot`]: `{ opcode: 0x8d, dst: N, src: 0, off: 0, imm: 0 }` (the
/// bpf_conformance encoding). `decode` rejects it as an unknown opcode; the conformance
/// runner recognises the opcode and skips such tests, as the upstream runner does.
pub const CALLX_OPCODE: u8 = 0x8d;

/// An assembly error: 1-based source line and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AsmError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for AsmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for AsmError {}

/// Variants of the enums of `insn.rs` that have no `ALL` table there.
const SX_SIZES: [SxSize; 3] = [SxSize::B, SxSize::H, SxSize::W];
const BYTE_ORDERS: [ByteOrder; 3] = [ByteOrder::ToLe, ByteOrder::ToBe, ByteOrder::Swap];
const SWAP_WIDTHS: [SwapWidth; 3] = [SwapWidth::W16, SwapWidth::W32, SwapWidth::W64];

/// Assembles `source` into instruction bytes (8 bytes per slot, little-endian fields).
pub fn assemble(source: &str) -> Result<Vec<u8>, AsmError> {
    let mut items: Vec<Item> = Vec::new();
    let mut labels: HashMap<String, (usize, usize)> = HashMap::new(); // name -> (slot, line)
    let mut first_exit: Option<usize> = None;
    let mut pc = 0usize;

    for (index, raw_line) in source.lines().enumerate() {
        let line = index + 1;
        let err = |message: String| AsmError { line, message };
        let code = match raw_line.find('#') {
            Some(i) => &raw_line[..i],
            None => raw_line,
        };
        let mut tokens = tokenize(code).map_err(err)?;
        if tokens.is_empty() {
            continue;
        }
        if let Some(name) = tokens[0].strip_suffix(':') {
            if !is_label_name(name) {
                return Err(err(format!("invalid label name '{name}'")));
            }
            if let Some((_, prev)) = labels.get(name) {
                return Err(err(format!("duplicate label '{name}' (first defined on line {prev})")));
            }
            labels.insert(name.to_string(), (pc, line));
            tokens.remove(0);
            if tokens.is_empty() {
                continue;
            }
        }
        let parsed = parse_insn(&tokens).map_err(err)?;
        let slots = match &parsed {
            Parsed::Op(op, _) => {
                if *op == Op::Exit && first_exit.is_none() {
                    first_exit = Some(pc);
                }
                // The output must decode: catches forms `Op` can hold but the ISA leaves undefined.
                let encoded = op.encode();
                if let Err(e) = decode(encoded.as_bytes(), 0) {
                    return Err(err(format!("'{}' is not a valid instruction: {}", tokens.join(" "), e.kind)));
                }
                op.slots()
            }
            Parsed::Raw(_) => 1,
        };
        items.push(Item { line, pc, parsed });
        pc += slots;
    }

    let mut out = Vec::with_capacity(pc * 8);
    for item in items {
        let err = |message: String| AsmError { line: item.line, message };
        match item.parsed {
            Parsed::Raw(slot) => out.extend_from_slice(&slot.to_bytes()),
            Parsed::Op(op, label) => {
                let op = match label {
                    None => op,
                    Some(name) => {
                        let target = match labels.get(&name) {
                            Some(&(slot, _)) => slot,
                            None if name == "exit" && first_exit.is_some() => first_exit.unwrap_or(0),
                            None => return Err(err(format!("unknown label '{name}'"))),
                        };
                        let rel = target as i64 - item.pc as i64 - 1;
                        patch_target(op, rel).ok_or_else(|| err(format!("label '{name}' is out of range ({rel:+})")))?
                    }
                };
                out.extend_from_slice(op.encode().as_bytes());
            }
        }
    }
    Ok(out)
}

struct Item {
    line: usize,
    pc: usize,
    parsed: Parsed,
}

enum Parsed {
    /// An instruction and, when its target is a label, the label to resolve.
    Op(Op, Option<String>),
    /// A slot with no `Op` form (callx).
    Raw(RawSlot),
}

/// Sets the relative target of a jump or local call; `None` when it does not fit the field.
fn patch_target(op: Op, rel: i64) -> Option<Op> {
    Some(match op {
        Op::Ja { .. } => Op::Ja { off: i16::try_from(rel).ok()? },
        Op::Jump { width, cond, dst, src, .. } => Op::Jump { width, cond, dst, src, off: i16::try_from(rel).ok()? },
        Op::Gotol { .. } => Op::Gotol { imm: i32::try_from(rel).ok()? },
        Op::CallLocal { .. } => Op::CallLocal { imm: i32::try_from(rel).ok()? },
        other => other,
    })
}

/// Splits a line (comment already removed) into tokens. Commas and blanks separate tokens;
/// a bracketed memory operand is one token with its inner blanks removed.
fn tokenize(code: &str) -> Result<Vec<String>, String> {
    let mut tokens = Vec::new();
    let mut cur = String::new();
    let mut after_comma = false;
    let mut chars = code.chars();
    fn flush(cur: &mut String, tokens: &mut Vec<String>, after_comma: &mut bool) {
        if !cur.is_empty() {
            tokens.push(std::mem::take(cur));
            *after_comma = false;
        }
    }
    while let Some(c) = chars.next() {
        if c.is_whitespace() {
            flush(&mut cur, &mut tokens, &mut after_comma);
        } else if c == ',' {
            flush(&mut cur, &mut tokens, &mut after_comma);
            if tokens.is_empty() || after_comma {
                return Err("empty operand (stray ',')".to_string());
            }
            after_comma = true;
        } else if c == '[' {
            cur.push('[');
            loop {
                match chars.next() {
                    None => return Err(format!("malformed memory operand '{cur}': missing ']'")),
                    Some(c) if c.is_whitespace() => {}
                    Some(']') => {
                        cur.push(']');
                        break;
                    }
                    Some(c) => cur.push(c),
                }
            }
        } else {
            cur.push(c);
        }
    }
    flush(&mut cur, &mut tokens, &mut after_comma);
    if after_comma {
        return Err("empty operand (trailing ',')".to_string());
    }
    Ok(tokens)
}

fn is_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' || c == '.' => {}
        _ => return false,
    }
    chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '$')
}

/// Splits an optional width suffix off a mnemonic: `add32` -> (`add`, W32), `add64`/`add` -> W64.
fn split_width(m: &str) -> (&str, Width) {
    if let Some(base) = m.strip_suffix("32") {
        (base, Width::W32)
    } else if let Some(base) = m.strip_suffix("64") {
        (base, Width::W64)
    } else {
        (m, Width::W64)
    }
}

fn expect_count(mnemonic: &str, ops: &[String], n: usize, what: &str) -> Result<(), String> {
    if ops.len() == n {
        Ok(())
    } else {
        Err(format!("wrong number of operands for '{mnemonic}': expected {n} ({what}), got {}", ops.len()))
    }
}

fn parse_insn(tokens: &[String]) -> Result<Parsed, String> {
    let m = tokens[0].as_str();
    let ops = &tokens[1..];
    let op = |op: Op| Ok(Parsed::Op(op, None));

    match m {
        "exit" => {
            expect_count(m, ops, 0, "none")?;
            return op(Op::Exit);
        }
        "ja" | "ja32" => {
            expect_count(m, ops, 1, "target")?;
            return if m == "ja" {
                match target(&ops[0], TargetField::Off16)? {
                    Target::Rel(off) => op(Op::Ja { off: off as i16 }),
                    Target::Label(l) => Ok(Parsed::Op(Op::Ja { off: 0 }, Some(l))),
                }
            } else {
                match target(&ops[0], TargetField::Imm32)? {
                    Target::Rel(imm) => op(Op::Gotol { imm: imm as i32 }),
                    Target::Label(l) => Ok(Parsed::Op(Op::Gotol { imm: 0 }, Some(l))),
                }
            };
        }
        "call" => return parse_call(ops),
        "lddw" => {
            expect_count(m, ops, 2, "register, immediate")?;
            let dst = reg(&ops[0])?;
            let v = &ops[1];
            if let Some(rest) = v.strip_prefix(".rodata") {
                return op(Op::LddwRodata { dst, offset: section_offset(v, rest)? });
            }
            if let Some(rest) = v.strip_prefix(".data") {
                return op(Op::LddwData { dst, offset: section_offset(v, rest)? });
            }
            return op(Op::Lddw { dst, imm: imm64(v)? });
        }
        "lock" => return parse_lock(ops),
        _ => {}
    }

    // neg, neg32, neg64
    let (base, width) = split_width(m);
    if base == "neg" {
        expect_count(m, ops, 1, "register")?;
        return op(Op::Neg { width, dst: reg(&ops[0])? });
    }

    // movsx<from><to>
    if let Some(rest) = m.strip_prefix("movsx") {
        for from in SX_SIZES {
            let width = match rest.strip_prefix(from.bits().to_string().as_str()) {
                Some("32") => Width::W32,
                Some("64") => Width::W64,
                _ => continue,
            };
            expect_count(m, ops, 2, "register, register")?;
            return op(Op::MovSx { width, dst: reg(&ops[0])?, src: reg(&ops[1])?, from });
        }
        return Err(format!(
            "unknown mnemonic '{m}' (sign-extending moves are movsx832, movsx1632, movsx864, movsx1664, movsx3264)"
        ));
    }

    // le16 .. bswap64, and the alias swap16 .. swap64
    let end_name = if let Some(bits) = m.strip_prefix("swap") {
        Some((ByteOrder::Swap, bits))
    } else {
        BYTE_ORDERS.iter().find_map(|&o| m.strip_prefix(o.mnemonic()).map(|bits| (o, bits)))
    };
    if let Some((order, bits)) = end_name {
        if let Some(width) = SWAP_WIDTHS.into_iter().find(|w| w.bits().to_string() == bits) {
            expect_count(m, ops, 1, "register")?;
            return op(Op::End { order, dst: reg(&ops[0])?, width });
        }
    }

    // ldx<size>, ldxs<size>
    if let Some(suffix) = m.strip_prefix("ldx") {
        if let Some(size) = Size::ALL.into_iter().find(|s| s.suffix() == suffix) {
            expect_count(m, ops, 2, "register, memory")?;
            let dst = reg(&ops[0])?;
            let (src, off) = mem(&ops[1])?;
            return op(Op::Load { size, dst, src, off });
        }
        if let Some(size) = suffix.strip_prefix('s').and_then(|s| SX_SIZES.into_iter().find(|x| x.size().suffix() == s))
        {
            expect_count(m, ops, 2, "register, memory")?;
            let dst = reg(&ops[0])?;
            let (src, off) = mem(&ops[1])?;
            return op(Op::LoadSx { size, dst, src, off });
        }
    }

    // stx<size>, st<size>
    if let Some(suffix) = m.strip_prefix("stx") {
        if let Some(size) = Size::ALL.into_iter().find(|s| s.suffix() == suffix) {
            expect_count(m, ops, 2, "memory, register")?;
            let (dst, off) = mem(&ops[0])?;
            return op(Op::Store { size, dst, off, src: Operand::Reg(reg(&ops[1])?) });
        }
    }
    if let Some(suffix) = m.strip_prefix("st") {
        if let Some(size) = Size::ALL.into_iter().find(|s| s.suffix() == suffix) {
            expect_count(m, ops, 2, "memory, immediate")?;
            let (dst, off) = mem(&ops[0])?;
            return op(Op::Store { size, dst, off, src: Operand::Imm(imm32(&ops[1])?) });
        }
    }

    if let Some(alu) = AluOp::ALL.into_iter().find(|a| a.mnemonic() == base) {
        expect_count(m, ops, 2, "register, register or immediate")?;
        return op(Op::Alu { width, op: alu, dst: reg(&ops[0])?, src: operand(&ops[1])? });
    }
    if let Some(cond) = Cond::ALL.into_iter().find(|c| c.mnemonic() == base) {
        expect_count(m, ops, 3, "register, register or immediate, target")?;
        let dst = reg(&ops[0])?;
        let src = operand(&ops[1])?;
        return match target(&ops[2], TargetField::Off16)? {
            Target::Rel(off) => op(Op::Jump { width, cond, dst, src, off: off as i16 }),
            Target::Label(l) => Ok(Parsed::Op(Op::Jump { width, cond, dst, src, off: 0 }, Some(l))),
        };
    }
    Err(format!("unknown mnemonic '{m}'"))
}

fn parse_call(ops: &[String]) -> Result<Parsed, String> {
    let (mode, rest) = match ops.first().map(String::as_str) {
        Some("local") => ("local", &ops[1..]),
        Some("helper") => ("helper", &ops[1..]),
        Some(m @ "runtime") => return Err(format!("unsupported call mode '{m}'")),
        _ => ("helper", ops),
    };
    if rest.len() != 1 {
        return Err(format!(
            "wrong number of operands for 'call': expected 'call N', 'call local TARGET' or 'call %rN', got {} operand(s)",
            ops.len()
        ));
    }
    let t = &rest[0];
    if mode == "local" {
        return Ok(match target(t, TargetField::Imm32)? {
            Target::Rel(imm) => Parsed::Op(Op::CallLocal { imm: imm as i32 }, None),
            Target::Label(l) => Parsed::Op(Op::CallLocal { imm: 0 }, Some(l)),
        });
    }
    if t.starts_with('%') {
        let r = reg(t)?;
        return Ok(Parsed::Raw(RawSlot { opcode: CALLX_OPCODE, dst: r.num(), src: 0, off: 0, imm: 0 }));
    }
    Ok(Parsed::Op(Op::CallHelper { id: imm32(t)? as u32 }, None))
}

fn parse_lock(ops: &[String]) -> Result<Parsed, String> {
    let (fetch, rest) = match ops.first().map(String::as_str) {
        Some("fetch") => (true, &ops[1..]),
        _ => (false, ops),
    };
    let Some(name) = rest.first() else {
        return Err(
            "wrong number of operands for 'lock': missing the operation (lock [fetch] OP [%rD+OFF], %rS)".into()
        );
    };
    let (base, width) = split_width(name);
    let candidates = || AtomicOp::ALL.into_iter().filter(|a| a.mnemonic() == base);
    // `fetch` selects the fetching form; xchg/cmpxchg exist only as fetching forms.
    let atomic = candidates()
        .find(|a| a.fetches() == fetch)
        .or_else(|| candidates().find(|a| a.fetches()))
        .ok_or_else(|| format!("unknown atomic operation 'lock {}{name}'", if fetch { "fetch " } else { "" }))?;
    let args = &rest[1..];
    if args.len() != 2 {
        return Err(format!(
            "wrong number of operands for 'lock {name}': expected 2 (memory, register), got {}",
            args.len()
        ));
    }
    let (dst, off) = mem(&args[0])?;
    let src = reg(&args[1])?;
    Ok(Parsed::Op(Op::Atomic { width, op: atomic, dst, src, off }, None))
}

fn reg(tok: &str) -> Result<Reg, String> {
    let bad = || format!("invalid register '{tok}' (expected %r0..%r10)");
    let digits = tok.strip_prefix("%r").ok_or_else(bad)?;
    if digits.is_empty() || digits.len() > 2 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    if digits.len() == 2 && digits.starts_with('0') {
        return Err(bad());
    }
    let n: u8 = digits.parse().map_err(|_| bad())?;
    Reg::new(n).ok_or_else(bad)
}

fn operand(tok: &str) -> Result<Operand, String> {
    if tok.starts_with('%') {
        Ok(Operand::Reg(reg(tok)?))
    } else {
        Ok(Operand::Imm(imm32(tok)?))
    }
}

/// A number: optional sign, then `0x` hex or decimal digits. Returns the value and whether it was hex.
fn number(tok: &str) -> Result<(i128, bool), String> {
    let (neg, rest) = match tok.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, tok.strip_prefix('+').unwrap_or(tok)),
    };
    let (hex, digits) = match rest.strip_prefix("0x").or_else(|| rest.strip_prefix("0X")) {
        Some(d) => (true, d),
        None => (false, rest),
    };
    let radix = if hex { 16 } else { 10 };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return Err(format!("invalid number '{tok}'"));
    }
    let mag = u64::from_str_radix(digits, radix).map_err(|_| format!("number '{tok}' is out of range"))?;
    Ok((if neg { -(mag as i128) } else { mag as i128 }, hex))
}

/// A 32-bit immediate: signed `i32`, or a hex bit pattern up to `0xffffffff`.
fn imm32(tok: &str) -> Result<i32, String> {
    let (v, hex) = number(tok)?;
    if let Ok(i) = i32::try_from(v) {
        return Ok(i);
    }
    if hex && (0..=u32::MAX as i128).contains(&v) {
        return Ok(v as u32 as i32);
    }
    Err(format!("immediate '{tok}' is out of 32-bit range"))
}

/// A 64-bit immediate: `-2^63 ..= 2^64-1`.
fn imm64(tok: &str) -> Result<u64, String> {
    let (v, _) = number(tok)?;
    if let Ok(i) = i64::try_from(v) {
        return Ok(i as u64);
    }
    u64::try_from(v).map_err(|_| format!("immediate '{tok}' is out of 64-bit range"))
}

/// The `+OFF` after `.data` / `.rodata`; empty means 0.
fn section_offset(tok: &str, rest: &str) -> Result<u64, String> {
    if rest.is_empty() {
        return Ok(0);
    }
    let Some(num) = rest.strip_prefix('+') else {
        return Err(format!("invalid section operand '{tok}' (expected .data+OFF or .rodata+OFF)"));
    };
    if num.starts_with(['+', '-']) {
        return Err(format!("invalid section operand '{tok}'"));
    }
    let (v, _) = number(num)?;
    u64::try_from(v).map_err(|_| format!("section offset '{tok}' is out of range"))
}

/// A memory operand `[%rN]`, `[%rN+OFF]`, `[%rN-OFF]`.
fn mem(tok: &str) -> Result<(Reg, i16), String> {
    let inner = tok
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .ok_or_else(|| format!("malformed memory operand '{tok}' (expected [%rN+OFF])"))?;
    let (r, off) = match inner.find(['+', '-']) {
        Some(i) => (&inner[..i], Some(&inner[i..])),
        None => (inner, None),
    };
    let r = reg(r).map_err(|e| format!("malformed memory operand '{tok}': {e}"))?;
    let off = match off {
        None => 0,
        Some(o) => {
            if o[1..].starts_with(['+', '-']) {
                return Err(format!("malformed memory operand '{tok}'"));
            }
            let (v, _) = number(o).map_err(|e| format!("malformed memory operand '{tok}': {e}"))?;
            i16::try_from(v).map_err(|_| format!("offset in '{tok}' is out of 16-bit range"))?
        }
    };
    Ok((r, off))
}

#[derive(Clone, Copy)]
enum TargetField {
    Off16,
    Imm32,
}

enum Target {
    Rel(i64),
    Label(String),
}

/// A jump target: `+N` / `-N` (decimal or hex) or a label name.
fn target(tok: &str, field: TargetField) -> Result<Target, String> {
    if tok.starts_with(['+', '-']) {
        if tok[1..].starts_with(['+', '-']) {
            return Err(format!("invalid jump offset '{tok}'"));
        }
        let (v, _) = number(tok)?;
        let ok = match field {
            TargetField::Off16 => i16::try_from(v).is_ok(),
            TargetField::Imm32 => i32::try_from(v).is_ok(),
        };
        if !ok {
            let bits = match field {
                TargetField::Off16 => 16,
                TargetField::Imm32 => 32,
            };
            return Err(format!("jump offset '{tok}' is out of {bits}-bit range"));
        }
        return Ok(Target::Rel(v as i64));
    }
    if is_label_name(tok) {
        Ok(Target::Label(tok.to_string()))
    } else {
        Err(format!("invalid jump target '{tok}' (expected +N, -N or a label)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(src: &str) -> Vec<u64> {
        let bytes = assemble(src).unwrap_or_else(|e| panic!("{src:?}: {e}"));
        bytes.chunks(8).map(|c| u64::from_le_bytes(c.try_into().unwrap())).collect()
    }

    fn err(src: &str) -> AsmError {
        match assemble(src) {
            Ok(b) => panic!("{src:?} assembled to {b:02x?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn encodes_known_words() {
        let cases: [(&str, u64); 22] = [
            ("mov %r0, 1", 0x0000_0001_0000_00b7),
            ("mov64 %r0, 1", 0x0000_0001_0000_00b7),
            ("mov32 %r0, 5", 0x0000_0005_0000_00b4),
            ("add %r0, 1", 0x0000_0001_0000_0007),
            ("mov %r0, %r1", 0x0000_0000_0000_10bf),
            ("exit", 0x95),
            ("ldxdw %r0, [%r1]", 0x0000_0000_0000_1079),
            ("ldxdw %r0, [%r1+0]", 0x0000_0000_0000_1079),
            ("stxdw [%r10-8], %r1", 0x0000_0000_fff8_1a7b),
            ("stxdw [ %r10 - 8 ], %r1", 0x0000_0000_fff8_1a7b),
            ("jeq %r0, %r2, +3", 0x0000_0000_0003_201d),
            ("jgt32 %r0, 7, -2", 0x0000_0007_fffe_0026),
            ("call 16", 0x0000_0010_0000_0085),
            ("be32 %r1", 0x0000_0020_0000_01dc),
            ("movsx1664 %r1, %r2", 0x0000_0000_0010_21bf),
            ("sdiv %r1, %r2", 0x0000_0000_0001_213f),
            ("mov32 %r0, 0xffffffff", 0xffff_ffff_0000_00b4),
            ("mov32 %r0, -1", 0xffff_ffff_0000_00b4),
            ("mov32 %r0, -2147483648", 0x8000_0000_0000_00b4),
            ("stdw [%r1+2], 0x44332211", 0x4433_2211_0002_017a),
            ("call %r2", 0x0000_0000_0000_028d),
            ("swap16 %r0", 0x0000_0010_0000_00d7),
        ];
        for (src, w) in cases {
            assert_eq!(words(src), [w], "{src}");
        }
        assert_eq!(words("bswap16 %r0"), words("swap16 %r0"));
    }

    #[test]
    fn lddw_matches_the_raw_of_lddw_data() {
        assert_eq!(words("lddw %r0, 0x1122334455667788\nexit"), [0x5566778800000018, 0x1122334400000000, 0x95]);
        assert_eq!(words("lddw %r0, -1"), [0xffff_ffff_0000_0018, 0xffff_ffff_0000_0000]);
        assert_eq!(words("lddw %r0, 18446744073709551615"), [0xffff_ffff_0000_0018, 0xffff_ffff_0000_0000]);
        assert_eq!(words("lddw %r1, .data+0x10"), [0x0000_0010_0000_01b8, 0]);
        assert_eq!(words("lddw %r1, .rodata"), [0x0000_0000_0000_01d8, 0]);
    }

    #[test]
    fn atomics() {
        let a = |s: &str| words(s)[0];
        assert_eq!(a("lock add [%r10-8], %r1"), 0x0000_0000_fff8_1adb);
        assert_eq!(a("lock add32 [%r10-8], %r1"), 0x0000_0000_fff8_1ac3);
        assert_eq!(a("lock fetch add [%r10-8], %r1"), 0x0000_0001_fff8_1adb);
        assert_eq!(a("lock fetch xor32 [%r10-4], %r3"), 0x0000_00a1_fffc_3ac3);
        assert_eq!(a("lock xchg [%r10-8], %r1"), 0x0000_00e1_fff8_1adb);
        assert_eq!(a("lock fetch xchg [%r10-8], %r1"), 0x0000_00e1_fff8_1adb);
        assert_eq!(a("lock cmpxchg32 [%r10-8], %r1"), 0x0000_00f1_fff8_1ac3);
    }

    #[test]
    fn labels_and_local_calls() {
        // ja32.data
        let src = "mov %r1, 0\nja32 L2\nL1:\nmov %r2, 0\nexit\nL2:\nmov %r0, 0\nja32 L1\n";
        let w = words(src);
        assert_eq!(w[1], 0x0000_0002_0000_0006);
        assert_eq!(w[5], 0xffff_fffc_0000_0006);
        // A label after an lddw counts two slots; a label can share a line.
        let w = words("lddw %r0, 1\nja end\nend: exit");
        assert_eq!(w[2], 0x0000_0000_0000_0005);
        let w = words("call local f\nexit\nf:\nmov %r0, 1\nexit");
        assert_eq!(w[0], 0x0000_0001_0000_1085);
        assert_eq!(words("call local -1")[0], 0xffff_ffff_0000_1085);
        // The implicit `exit` label: the first exit instruction.
        let w = words("jeq %r1, 0xb, exit # taken\nmov32 %r0, 2\nexit\nexit");
        assert_eq!(w[0], 0x0000_000b_0001_0115);
        // An explicit label wins.
        let w = words("ja exit\nexit\nexit:\nexit");
        assert_eq!(w[0], 0x0000_0000_0001_0005);
    }

    #[test]
    fn errors() {
        let cases: [(&str, usize, &str); 24] = [
            ("mov32 %r0, 2147483648", 1, "out of 32-bit range"),
            ("mov32 %r0, 0x100000000", 1, "out of 32-bit range"),
            ("mov %r0, -2147483649", 1, "out of 32-bit range"),
            ("ja NOT_A_LABEL\nexit", 1, "unknown label"),
            ("exit\nlock or [%r10-8]", 2, "wrong number of operands"),
            ("lock", 1, "wrong number of operands"),
            ("lock fetch", 1, "wrong number of operands"),
            ("lock nand [%r1], %r2", 1, "unknown atomic"),
            ("ldxq %r0, %r1", 1, "unknown mnemonic"),
            ("ldxb %r0, %r1", 1, "malformed memory operand"),
            ("ldxb %r0, [%r1+0x10000]", 1, "out of 16-bit range"),
            ("ldxb %r0, [%r1-32769]", 1, "out of 16-bit range"),
            ("ldxb %r0, [%r1", 1, "missing ']'"),
            ("lddw %r0", 1, "wrong number of operands"),
            ("or %r0, %r50", 1, "invalid register"),
            ("or %r0, %r11", 1, "invalid register"),
            ("mov %r0,, 1", 1, "empty operand"),
            ("mov %r0, 1,", 1, "empty operand"),
            ("ja +32768", 1, "out of 16-bit range"),
            ("movsx3232 %r0, %r1", 1, "not a valid instruction"),
            ("L:\nL:\nexit", 2, "duplicate label"),
            ("jeq %r0, 1", 1, "wrong number of operands"),
            ("mov %r0, 12abc", 1, "invalid number"),
            ("call runtime 1", 1, "unsupported call mode"),
        ];
        for (src, line, what) in cases {
            let e = err(src);
            assert_eq!(e.line, line, "{src}: {e}");
            assert!(e.message.contains(what), "{src}: {e}");
            assert_eq!(e.to_string(), format!("line {line}: {}", e.message));
        }
    }

    #[test]
    fn comments_blanks_and_odd_input_do_not_panic() {
        assert_eq!(assemble("").unwrap(), Vec::<u8>::new());
        assert_eq!(assemble("# only a comment\n\n   \n").unwrap(), Vec::<u8>::new());
        for src in [
            "\u{7f}",
            "é:",
            "[",
            "]",
            ",",
            "%r",
            "mov %r0, -",
            "mov %r0, 0x",
            "ja +",
            "ja -0x",
            "ldxb %r0, [+]",
            "ldxb %r0, [%r1+]",
            "ldxb %r0, [%r1+-1]",
            "lddw %r0, .data+",
            "lddw %r0, .data-1",
            "call",
            "call local",
            "lock fetch add",
            "mov %r0, ٣",
            "ja ++1",
            "jeq %r1, %r2, 5",
        ] {
            let _ = assemble(src);
        }
    }
}
